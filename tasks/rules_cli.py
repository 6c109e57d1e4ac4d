"""``decruft rules list`` and ``decruft rules check DIR``: look at the phrase rules, test a rule folder.

Kept apart from ``tasks/cli.py`` (which only registers the subcommand): the work is in
``pipeline.rules``; this module prints it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

USAGE = 2  # exit code of a usage or configuration error (README: exit codes)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rules", help="list the phrase rules, or check a folder of rule files")
    actions = p.add_subparsers(dest="rules_command", required=True)
    q = actions.add_parser("list", help="every rule in use: id, reason, scope, file (tab-separated)")
    q.add_argument("--rules", action="append", metavar="DIR", help="also list this folder's rules; repeatable")
    q.set_defaults(func=cmd_rules_list)
    q = actions.add_parser("check", help="validate a folder of rule files and run their matches/keeps examples")
    q.add_argument("folder", metavar="DIR", help="folder of *.toml rule files")
    q.set_defaults(func=cmd_rules_check)


def cmd_rules_list(args: argparse.Namespace) -> int:
    from pipeline.rules import BUILTIN_DIR, load_rules

    rules = load_rules(tuple(Path(d) for d in args.rules or ()))
    out = sys.stdout
    out.write("id\treason\tscope\tfile\n")
    for rule in rules.rules:
        origin = Path(rule.origin)
        shown = origin.name if origin.parent == BUILTIN_DIR else str(origin)
        out.write(f"{rule.id}\t{rule.reason}\t{rule.scope}\t{shown}\n")
    print(f"{len(rules)} rules (rules version {rules.version})", file=sys.stderr)
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    from pipeline.rules import check_rules_dir, load_rules

    from pipeline.site_rules import check_site_rules

    folder = Path(args.folder)
    rules, problems = check_rules_dir(folder)
    sites, site_problems = check_site_rules(folder)  # folder/sites/<host>.toml (pipeline/site_rules.py)
    if sites or site_problems:
        problems = [p for p in problems if not p.endswith("no *.toml rule files")] + site_problems
    for problem in problems:
        print(f"decruft: rules: {problem}", file=sys.stderr)
    if problems:
        print(f"decruft: rules: {folder}: {len(problems)} problem(s); the folder would be refused", file=sys.stderr)
        return USAGE
    examples = sum(len(r.matches) + len(r.keeps) for r in rules)
    # A keeps line of this folder that another rule (built-in or here) removes is worth knowing,
    # though it is not this rule's fault: say so, without failing.
    merged = load_rules((folder,))
    for rule in rules:
        for line in rule.keeps:
            hit = merged.match(line)
            if hit is not None:
                print(f"decruft: rules: note: {rule.id}'s keeps example {line!r} is removed by {hit.id} "
                      f"({Path(hit.origin).name})", file=sys.stderr)
    files = len({r.origin for r in rules})
    print(f"{folder}: {len(rules)} rules in {files} files, {examples} examples: all pass")
    if sites:
        site_examples = sum(len(r.matches) + len(r.keeps) for s in sites for r in (*s.drops, *s.keeps, *s.selects))
        print(f"{folder}: {sum(map(len, sites))} site rules for {len(sites)} hosts, {site_examples} examples: all pass")
    return 0
