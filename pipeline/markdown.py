"""Markdown out: the kept lines of a document, each with a line class, rendered as Markdown.

A *line class* says what a kept line is: ``p`` (paragraph), ``h1``…``h6`` (heading of that level),
``li`` / ``oli`` (an item of a bulleted / numbered list; ``li+`` continues the item above),
``quote`` (inside a block quote), ``td`` / ``th`` (a cell of a data table), ``pre`` (code).
From HTML the classes come from the page's structure (``html_structure``: the same visible
blocks as ``pipeline.html_blocks.page_blocks``, each with the headings, lists, quotes and
tables around it), matched to the kept lines by their words. From text (dumps, extracted
text) a learned line classifier (``pipeline.line_class``) tells headings and list items from
paragraphs. ``render`` writes the Markdown: the same lines as the record's ``text``, in the same
order, with Markdown's marks added (a table's cells joined into rows) — a rendering of the same
content, never other text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .html_blocks import BLOCK_TAGS, SKIP_TAGS, tokens

PARAGRAPH = "p"
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
LIST_ITEM, ORDERED_ITEM, ITEM_CONTINUED = "li", "oli", "li+"
QUOTE, CELL, HEADER_CELL, CODE = "quote", "td", "th", "pre"
CLASSES = (PARAGRAPH, *HEADINGS, LIST_ITEM, ORDERED_ITEM, ITEM_CONTINUED, QUOTE, CELL, HEADER_CELL, CODE)

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class LineClass:
    """What one kept line is, with what rendering it needs beyond the class."""

    kind: str = PARAGRAPH  # one of CLASSES
    depth: int = 0  # list nesting (1 = top level), 0 outside lists
    number: int = 0  # an ordered item's number
    quote: int = 0  # block quote nesting around the line
    table: int = 0  # which data table (per page), 0 outside tables
    row: int = 0  # which row of that table

    @property
    def is_heading(self) -> bool:
        return self.kind in HEADINGS

    @property
    def is_item(self) -> bool:
        return self.kind in (LIST_ITEM, ORDERED_ITEM)


PLAIN = LineClass()


# ------------------------------------------------------------------------------- HTML structure

@dataclass
class _Frame:
    tag: str
    is_block: bool
    heading: int = 0
    lists: tuple = ()  # (list id, ordered) of the lists around, outermost first
    item: int = 0  # id of the innermost <li>
    number: int = 0  # its number in an ordered list
    quote: int = 0
    table: int = 0
    row: int = 0
    header: bool = False  # inside <th> or <thead>
    pre: bool = False


@dataclass
class StructBlock:
    text: str
    cls: LineClass
    item: int = 0  # the <li> it is in (0: none); the first block of an item carries its marker
    cell: int = 0  # the table cell it is in
    outside_table: LineClass | None = None  # a cell's class if its table is only layout


@dataclass
class _Table:
    rows: dict = field(default_factory=dict)  # row id -> cells seen
    blocky: bool = False  # holds headings, lists, paragraphs or tables: layout, not data


def html_structure(tree) -> list[StructBlock]:
    """The visible text blocks of a parsed page (the boundaries of ``html_blocks.page_blocks``),
    each with its line class from the elements around it. Walks the tree once, no recursion."""
    blocks: list[StructBlock] = []
    pieces: list[str] = []
    stack: list[_Frame] = []
    counters = {"list": 0, "item": 0, "table": 0, "row": 0, "cell": 0}
    numbers: dict[int, int] = {}  # ordered list id -> items so far
    tables: dict[int, _Table] = {}
    cell_of: list[int] = [0]
    item_started: set[int] = set()

    def flush() -> None:
        if not pieces:
            return
        text = _SPACE.sub(" ", "".join(pieces)).strip()
        pieces.clear()
        if not text:
            return
        f = stack[-1] if stack else _Frame("body", True)
        plain = _block_class(f, item_started)
        item = f.item if f.lists else 0
        if f.table:
            cell = LineClass(HEADER_CELL if f.header else CELL, quote=f.quote, table=f.table, row=f.row)
            blocks.append(StructBlock(text, cell, item, cell_of[0], plain))
        else:
            blocks.append(StructBlock(text, plain, item))

    walker = etree.iterwalk(tree, events=("start", "end"))
    skipping = []
    for event, el in walker:
        tag = el.tag
        if not isinstance(tag, str):
            if event == "start":
                walker.skip_subtree()
            elif el.tail:
                pieces.append(el.tail)
            continue
        if event == "start":
            if tag in SKIP_TAGS or el.get("hidden") is not None or el.get("aria-hidden") == "true":
                walker.skip_subtree()
                skipping.append(el)
                continue
            is_block = tag in BLOCK_TAGS
            if is_block:
                flush()
            top = stack[-1] if stack else _Frame("body", True)
            f = _Frame(tag, is_block, top.heading, top.lists, top.item, top.number, top.quote,
                       top.table, top.row, top.header, top.pre)
            if tag in HEADINGS:
                f.heading = int(tag[1])
            elif tag in ("ul", "ol", "menu"):
                counters["list"] += 1
                f.lists = top.lists + ((counters["list"], tag == "ol"),)
                if tag == "ol":
                    start = el.get("start", "1")
                    numbers[counters["list"]] = (int(start) - 1) if start.strip().lstrip("-").isdigit() else 0
            elif tag == "li":
                counters["item"] += 1
                f.item = counters["item"]
                if top.lists and top.lists[-1][1]:
                    numbers[top.lists[-1][0]] = numbers.get(top.lists[-1][0], 0) + 1
                    f.number = numbers[top.lists[-1][0]]
                else:
                    f.number = 0
                if not top.lists:  # a stray <li>: a list of its own
                    counters["list"] += 1
                    f.lists = ((counters["list"], False),)
            elif tag == "blockquote":
                f.quote = top.quote + 1
            elif tag == "table":
                counters["table"] += 1
                f.table = counters["table"]
                tables[f.table] = _Table()
                if top.table:
                    tables[top.table].blocky = True
                f.row, f.header = 0, False
            elif tag == "tr":
                counters["row"] += 1
                f.row = counters["row"]
            elif tag in ("td", "th"):
                counters["cell"] += 1
                cell_of[0] = counters["cell"]
                f.header = top.header or tag == "th"
                if f.table:
                    t = tables[f.table]
                    t.rows.setdefault(f.row, set()).add(counters["cell"])
            elif tag == "thead":
                f.header = True
            elif tag == "pre":
                f.pre = True
            if f.table and tag in ("p", "div", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
                                   "blockquote", "pre", "form", "dl") and tag not in ("div",):
                tables[f.table].blocky = True
            stack.append(f)
            if tag == "br":
                flush()
            if el.text:
                pieces.append(el.text)
        else:
            if skipping and skipping[-1] is el:
                skipping.pop()
                if el.tail:
                    pieces.append(el.tail)
                continue
            if stack and stack[-1].is_block:
                flush()
            if stack:
                stack.pop()
            if el.tail:
                pieces.append(el.tail)
    flush()
    return _data_tables_only(blocks, tables)


def _block_class(f: _Frame, item_started: set[int]) -> LineClass:
    """The class of a block from the innermost frame around it (``item_started``: items whose
    first block has been seen; later blocks of the item continue it)."""
    depth = len(f.lists)
    if f.heading and not (depth and f.item):  # a heading inside a list item is the item (as in gold.md)
        return LineClass(HEADINGS[f.heading - 1], quote=f.quote)
    if f.pre:
        return LineClass(CODE, depth=depth, quote=f.quote)
    if depth and f.item:
        if f.item in item_started:
            return LineClass(ITEM_CONTINUED, depth=depth, quote=f.quote)
        item_started.add(f.item)
        ordered = f.lists[-1][1]
        return LineClass(ORDERED_ITEM if ordered else LIST_ITEM, depth=depth,
                         number=f.number if ordered else 0, quote=f.quote)
    if f.quote:
        return LineClass(QUOTE, quote=f.quote)
    return PLAIN


def _data_tables_only(blocks: list[StructBlock], tables: dict[int, _Table]) -> list[StructBlock]:
    """Cells of layout tables (one row or one column, or holding headings, lists, paragraphs,
    other tables) become paragraphs: only data tables are rendered as tables."""
    data = {tid for tid, t in tables.items()
            if not t.blocky and len(t.rows) >= 2 and max((len(c) for c in t.rows.values()), default=0) >= 2}
    out = []
    for b in blocks:
        if b.cls.kind in (CELL, HEADER_CELL) and b.cls.table not in data:
            b = StructBlock(b.text, b.outside_table or PLAIN, b.item, 0)
        out.append(b)
    return out


def _key(text: str) -> tuple[str, ...]:
    return tuple(tokens(text))


Piece = tuple[str, LineClass]  # a kept line, or the part of one that was one block of the page


def pieces_from_structure(lines: list[str], blocks: list[StructBlock], window: int = 400) -> list[list[Piece]]:
    """Per kept line, its pieces with their classes: the structure block(s) it is, matched by
    words, in order.

    A kept line is one block, or several consecutive blocks the cleaning re-joined: then it is
    cut back into its blocks where their texts differ in class or are separate items or table
    cells (the same characters, in the same order), else it takes the first block's class. A line
    matched to no block is a paragraph. Matching moves forward only, looking at most ``window``
    blocks ahead of the last match.
    """
    keys = [_key(b.text) for b in blocks]
    out: list[list[Piece]] = []
    j = 0
    for line in lines:
        want = _key(line)
        found = None
        if want:
            for k in range(j, min(len(blocks), j + window)):
                kk = keys[k]
                if not kk or kk[0] != want[0] or len(kk) > len(want):
                    continue
                if kk == want:
                    found = (k, k + 1)
                    break
                if want[: len(kk)] == kk:  # re-joined blocks: take as many as make the line
                    n, m = len(kk), k + 1
                    while m < len(blocks) and n < len(want) and (not keys[m] or want[n : n + len(keys[m])] == keys[m]):
                        n += len(keys[m])
                        m += 1
                    if n == len(want):
                        found = (k, m)
                        break
        if found is None:
            out.append([(line, PLAIN)])
            continue
        k, m = found
        j = m
        out.append(_split(line, [b for b in blocks[k:m] if b.text.strip()]))
    return out


def _split(line: str, parts: list[StructBlock]) -> list[Piece]:
    """``line`` (made of the blocks ``parts``) cut where a block of another class, item or cell
    starts; not cut when a block's text cannot be found in it where expected."""
    first = parts[0]
    if len(parts) == 1 or all(p.cls == first.cls and p.item == first.item and p.cell == first.cell and
                              p.cls.kind not in (CELL, HEADER_CELL) for p in parts[1:]):
        return [(line, first.cls)]
    cuts, pos = [0], len(first.text) if line.startswith(first.text) else -1
    for p in parts[1:]:
        at = line.find(p.text, max(pos, 0)) if pos >= 0 else -1
        if at < 0 or line[pos:at].strip():
            return [(line, first.cls)]
        cuts.append(at)
        pos = at + len(p.text)
    if line[pos:].strip():
        return [(line, first.cls)]
    bounds = cuts + [len(line)]
    groups: list[list[int]] = []  # indices of parts that stay one piece
    for i, p in enumerate(parts):
        prev = parts[groups[-1][-1]] if groups else None
        if prev is not None and p.cls == prev.cls and p.cls.kind not in (CELL, HEADER_CELL) \
                and p.item == prev.item:
            groups[-1].append(i)
        else:
            groups.append([i])
    return [(line[bounds[g[0]]:bounds[g[-1] + 1]].strip(), parts[g[0]].cls) for g in groups]


def pieces_from_html(lines: list[str], html: str) -> list[list[Piece]]:
    """Pieces and classes of the kept ``lines`` of an HTML page (paragraphs when it cannot be parsed)."""
    from .extract import parse_page

    plain = [[(line, PLAIN)] for line in lines]
    tree = parse_page(html) if html else None
    if tree is None:
        return plain
    try:
        blocks = html_structure(tree)
    except Exception:  # noqa: BLE001 - hostile input: no structure, plain paragraphs
        return plain
    return pieces_from_structure(lines, blocks)


# ------------------------------------------------------------------------------- rendering

_BLOCK_START = re.compile(r"^(?:#{1,6}(?:\s|$)|[-*+](?:\s|$)|\d{1,9}[.)](?:\s|$)|>|=+\s*$|-{3,}\s*$|`{3}|~{3}|\|)")
_INLINE = re.compile(r"([\\`*_\[\]<])")


def escape(text: str, block: bool = True) -> str:
    """``text`` as literal Markdown: inline marks (``*``, ``_``, backquote, brackets) are
    backslash-escaped, and (``block``: the text starts a paragraph) so is a start that would read
    as a mark (``# ``, ``- ``, ``1. ``, ``>``…)."""
    text = _INLINE.sub(r"\\\1", text)
    m = _BLOCK_START.match(text) if block else None
    if m:
        s = m.group(0)
        if s[0].isdigit():
            i = len(s.rstrip()) - 1  # "1." -> "1\."
            text = text[:i] + "\\" + text[i:]
        else:
            text = "\\" + text
    return text


def _cell(text: str) -> str:
    return escape(text, block=False).replace("|", "\\|")


def render(lines: list[str], classes: list[LineClass]) -> str:
    """Markdown of ``lines`` (the record's kept lines, or pieces of them, in order) with their
    classes: blocks apart by a blank line, a list's items and a table's rows on consecutive lines."""
    out: list[str] = []  # rendered blocks; each a list of physical lines
    prev: LineClass | None = None
    i, n = 0, len(lines)
    while i < n:
        c = classes[i] if i < len(classes) else PLAIN
        if c.kind in (CELL, HEADER_CELL):
            j = i
            rows: list[list[str]] = []
            row_id = None
            while j < n and classes[j].kind in (CELL, HEADER_CELL) and classes[j].table == c.table:
                if classes[j].row != row_id:
                    rows.append([])
                    row_id = classes[j].row
                rows[-1].append(_cell(lines[j]))
                j += 1
            width = max(len(r) for r in rows)
            table = []
            for r, cells in enumerate(rows):
                cells = cells + [""] * (width - len(cells))
                table.append("| " + " | ".join(cells) + " |")
                if r == 0:
                    table.append("|" + "---|" * width)
            _add(out, table, c, prev, tight=False)
            prev, i = c, j
            continue
        text = lines[i]
        if c.is_heading:
            body = [f"{'#' * int(c.kind[1])} {escape(text, block=False)}"]
        elif c.kind == LIST_ITEM:
            body = [f"{'  ' * max(c.depth - 1, 0)}- {escape(text, block=False)}"]
        elif c.kind == ORDERED_ITEM:
            body = [f"{'   ' * max(c.depth - 1, 0)}{c.number or 1}. {escape(text, block=False)}"]
        elif c.kind == ITEM_CONTINUED:
            body = [f"{'  ' * max(c.depth, 1)}{escape(text)}"]
        elif c.kind == CODE:
            fence = "````" if "```" in text else "```"
            body = [fence, text, fence]
        else:
            body = [escape(text)]
        tight = c.is_item and prev is not None and (prev.is_item or prev.kind == ITEM_CONTINUED) and prev.quote == c.quote
        _add(out, body, c, prev, tight)
        prev = c
        i += 1
    return "\n".join(out).strip("\n") + "\n" if out else ""


def _add(out: list[str], body: list[str], c: LineClass, prev: LineClass | None, tight: bool) -> None:
    prefix = "> " * c.quote
    if out:
        if not tight:
            out.append(prefix.rstrip() if prev is not None and prev.quote and c.quote else "")
    out.extend((prefix + line).rstrip() if line or prefix else line for line in body)


# ------------------------------------------------------------------------------- text

def text_pieces(lines: list[str], source: list[str], window: int = 400) -> list[list[tuple[int, int]]]:
    """Per kept line, the ``(start, end)`` character spans of the source lines it was made of
    (the cleaning re-joins a dump's lines: link texts, but also list items and headings glued to
    the line before), matched by words in order like ``pieces_from_structure``; one span for
    the whole line when it was one source line or cannot be cut back."""
    blocks = [StructBlock(t, PLAIN) for t in source]
    keys = [_key(t) for t in source]
    out: list[list[tuple[int, int]]] = []
    j = 0
    for line in lines:
        want = _key(line)
        whole = [(0, len(line))]
        found = None
        for k in range(j, min(len(blocks), j + window)) if want else ():
            kk = keys[k]
            if not kk or kk[0] != want[0] or len(kk) > len(want) or want[: len(kk)] != kk:
                continue
            n, m = len(kk), k + 1
            while m < len(blocks) and n < len(want) and (not keys[m] or want[n : n + len(keys[m])] == keys[m]):
                n += len(keys[m])
                m += 1
            if n == len(want):
                found = (k, m)
                break
        if found is None:
            out.append(whole)
            continue
        k, m = found
        j = m
        parts = [t.strip() for t in source[k:m] if t.strip()]
        spans, pos = [], 0
        for t in parts:
            at = line.find(t, pos)
            if at < 0 or line[pos:at].strip():
                spans = []
                break
            spans.append(at)
            pos = at + len(t)
        if not spans or line[pos:].strip():
            out.append(whole)
            continue
        spans[0] = 0
        out.append([(a, b) for a, b in zip(spans, spans[1:] + [len(line)])])
    return out


def classes_of_text(lines: list[str], source: list[str] | None, model_path: str | None = None) -> list[list[Piece]]:
    """Kept lines of a text document cut into their source lines, each classed by the learned
    line classifier (``pipeline.line_class``); consecutive paragraph pieces of one kept line stay
    one paragraph (a sentence the cleaning re-joined stays whole), a heading or list item glued to
    its neighbour is cut out."""
    from .line_class import classify_pieces

    spans = text_pieces(lines, source) if source is not None else [[(0, len(line))] for line in lines]
    texts = [line[a:b].strip() for line, per in zip(lines, spans) for a, b in per]
    groups = [i for i, per in enumerate(spans) for _ in per]
    classes = iter(classify_pieces(texts, groups, model_path))
    out: list[list[Piece]] = []
    for line, per in zip(lines, spans):
        pieces: list[tuple[int, int, LineClass]] = []
        for a, b in per:
            c = next(classes)
            if pieces and c == PLAIN and pieces[-1][2] == PLAIN:
                pieces[-1] = (pieces[-1][0], b, c)
            else:
                pieces.append((a, b, c))
        out.append([(line[a:b].strip(), c) for a, b, c in pieces])
    return out


# ------------------------------------------------------------------------------- one document

def line_pieces(lines: list[str], html: str | None = None, model_path: str | None = None,
                source: list[str] | None = None) -> list[list[Piece]]:
    """Every kept line's pieces with their classes: from the page's structure for HTML, else
    from the learned line classifier over the source lines they were made of (``source``: the
    document's lines before cleaning; ``model_path``: another model than the shipped one)."""
    if not lines:
        return []
    if html is not None:
        return pieces_from_html(lines, html)
    return classes_of_text(lines, source, model_path)


def to_markdown(lines: list[str], html: str | None = None, model_path: str | None = None,
                source: list[str] | None = None) -> tuple[list[LineClass], str]:
    """(the class of each kept line — of its first piece —, Markdown) of a document's kept lines
    (``html``: the page they came from; ``source``: for text, its lines before cleaning)."""
    pieces = line_pieces(lines, html, model_path, source)
    flat = [p for per_line in pieces for p in per_line]
    return [per_line[0][1] for per_line in pieces], render([t for t, _ in flat], [c for _, c in flat])


def count_classes(classes: list[LineClass]) -> dict[str, int]:
    """Headings, list items, quote lines, table cells and code lines among a document's classes."""
    counts = {"headings": 0, "list_items": 0, "quotes": 0, "table_cells": 0, "code": 0}
    for c in classes:
        if c.is_heading:
            counts["headings"] += 1
        elif c.is_item:
            counts["list_items"] += 1
        elif c.kind == QUOTE:
            counts["quotes"] += 1
        elif c.kind in (CELL, HEADER_CELL):
            counts["table_cells"] += 1
        elif c.kind == CODE:
            counts["code"] += 1
    return counts
