"""``decruft config``: the settings ``decruft run`` would use, each with where it came from.

Sources, later ones winning (as Luigi reads them): a setting's default (``tasks/config.py``
for ``[decruft]``, Luigi's own for ``[retcode]``…), the configuration files Luigi finds
(``/etc/luigi/luigi.cfg``, ``luigi.cfg`` in the current directory, then ``LUIGI_CONFIG_PATH``),
and the command line. The library knobs that luigi.cfg does not set (``pipeline.CleanConfig``)
are listed with their defaults.
"""
from __future__ import annotations

import configparser
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import luigi
import luigi.configuration
import luigi.interface
import luigi.retcodes
import luigi.scheduler
import luigi.worker

from .config import decruft

# Sections shown in full; of Luigi's other sections, only the settings a file sets.
FULL_SECTIONS = {"decruft": decruft, "retcode": luigi.retcodes.retcode}
OTHER_SECTIONS = {"core": luigi.interface.core, "worker": luigi.worker.worker, "scheduler": luigi.scheduler.scheduler}


def _parser_class():
    return type(luigi.configuration.get_config())


def config_files() -> list[dict[str, Any]]:
    """The files Luigi reads, in order (a later one wins), and whether each exists."""
    env = os.environ.get("LUIGI_CONFIG_PATH")
    files = []
    for path in _parser_class()._config_paths:
        via = "LUIGI_CONFIG_PATH" if env and path == env else "Luigi's default search list"
        files.append({"path": path, "resolved": os.path.abspath(path), "exists": os.path.isfile(path), "via": via})
    if env and not os.path.isfile(env):
        files.append({"path": env, "resolved": os.path.abspath(env), "exists": False,
                      "via": "LUIGI_CONFIG_PATH (missing: Luigi ignores it)"})
    return files


def _read_file(path: str) -> dict[str, dict[str, str]]:
    if path.endswith(".toml"):
        import tomllib

        with open(path, "rb") as fh:
            return {s: {k: str(v) for k, v in items.items()} for s, items in tomllib.load(fh).items()
                    if isinstance(items, dict)}
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return {s: dict(parser.items(s, raw=True)) for s in parser.sections()}


def _where_set(files) -> dict[tuple[str, str], str]:
    """(section, option) → the last existing file that sets it."""
    found: dict[tuple[str, str], str] = {}
    for f in files:
        if f["exists"]:
            for section, items in _read_file(f["path"]).items():
                for option in items:
                    found[(section, option.replace("-", "_"))] = f["resolved"]
    return found


def _show(param, value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        return str(param.serialize(value))
    except Exception:  # noqa: BLE001 - only for display
        return str(value)


def effective_settings(overrides: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows ``{section, name, value, source}`` and the configuration files Luigi reads."""
    from tasks.cli import apply_overrides

    files = config_files()
    where = _where_set(files)
    apply_overrides(overrides)
    rows: list[dict[str, Any]] = []
    known: set[tuple[str, str]] = set()
    for section, cls in {**FULL_SECTIONS, **OTHER_SECTIONS}.items():
        instance = cls()
        for name, param in cls.get_params():
            known.add((section, name))
            if section == "decruft" and name in overrides:
                source = "command line"
            elif (section, name) in where:
                source = f"config file {where[(section, name)]}"
            elif section in FULL_SECTIONS:
                source = "default"
            else:
                continue
            rows.append({"section": section, "name": name, "value": _show(param, getattr(instance, name)),
                         "source": source})
    for (section, name), path in sorted(where.items()):
        if section in FULL_SECTIONS and (section, name) not in known:
            rows.append({"section": section, "name": name, "value": None,
                         "source": f"config file {path}: no such setting, ignored"})
    cfg = decruft().clean_config()
    for f in dataclasses.fields(cfg):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        value = getattr(cfg, f.name)
        source = "default (pipeline/config.py)" if value == default else "from [decruft] above"
        shown = json.dumps(sorted(value)) if isinstance(value, frozenset) else (
            json.dumps([str(p) for p in value]) if isinstance(value, tuple) else _show(None, value))
        rows.append({"section": "library", "name": f.name, "value": shown, "source": source})
    return rows, files


def format_settings(rows: list[dict[str, Any]], files: list[dict[str, Any]]) -> str:
    """INI-like text: one ``name = value  # source`` line per setting, by section."""
    out = ["# decruft's effective settings for `decruft run` (later sources win: default, config files, command line)",
           "# configuration files Luigi reads, in order:"]
    for f in files:
        state = "read" if f["exists"] else "absent"
        out.append(f"#   {f['path']} -> {f['resolved']} ({state}; {f['via']})")
    width = max((len(r["name"]) + len(str(r["value"])) for r in rows), default=0) + 4
    section = None
    for r in rows:
        if r["section"] != section:
            section = r["section"]
            note = "  # pipeline.CleanConfig, as the tasks build it (not set in luigi.cfg)" if section == "library" else ""
            out.append(f"\n[{section}]{note}")
        line = f"{r['name']} = {'' if r['value'] is None else r['value']}"
        out.append(f"{line.ljust(width)}# {r['source']}")
    return "\n".join(out) + "\n"
