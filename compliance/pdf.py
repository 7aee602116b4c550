"""The release record as a PDF, drawn with fpdf2 (pure Python, no system binaries).

Fonts ship with Shipcheck (``compliance/fonts/``): DejaVu Sans (Latin, Greek,
Cyrillic and more) and, as fpdf2's fallback for what DejaVu lacks (Chinese,
Japanese, Korean), Droid Sans Fallback, so names print as written in any
image, fonts installed or not. The fallback is loaded only when the record
holds a character DejaVu lacks (it is large; most records never need it).

Tables are laid out here rather than with fpdf2's table helper (which lays
every cell out twice through its general line breaker, seconds per record):
each cell wraps at spaces, measured with a cache of word widths, and only a
token longer than its whole column (a hash, a long URL) is broken inside;
columns are never narrower than their longest word where the page allows.
The JSON record is the exact one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import cast

from fpdf import FPDF
from fpdf.fonts import TTFFont

from compliance.record import ReleaseRecord, Section, Table, display

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FALLBACK = FONT_DIR / "DroidSansFallback.ttf"
FAMILY = "dejavu"
MAX_CELL = 600  # characters per cell in print; the JSON record carries the full text
PT = 0.3528  # millimetres per point
PAD = 0.8
# Longer tokens are not words (hashes, JSON, links) and may break inside a cell.
LONG_TOKEN = 15
SOFT_MINIMUM = 24.0  # mm: a column of long tokens still shows 15 characters a line
HEADING_FILL = (232, 236, 244)
ROW_FILL = (248, 249, 252)
# fontTools reports every font subset at INFO; nobody needs that in the log.
logging.getLogger("fontTools").setLevel(logging.WARNING)
logging.getLogger("fpdf.output").setLevel(logging.ERROR)


class _RecordPDF(FPDF):
    output_bytes: bytes  # the finished PDF, set by record_pdf_document

    def __init__(self, title: str, characters: set[str]):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.record_title = title
        self.family = FAMILY
        self.add_font(FAMILY, "", str(REGULAR))
        self.add_font(FAMILY, "B", str(BOLD))
        self.covered = frozenset(cast(TTFFont, self.fonts[FAMILY]).cmap)
        self.fallback = any(ord(c) not in self.covered for c in characters if c > "\x7f")
        if self.fallback:
            self.add_font("fallback", "", str(FALLBACK))
            self.set_fallback_fonts(["fallback"], exact_match=False)
        self.set_auto_page_break(auto=True, margin=14)
        self.set_margins(12, 12, 12)
        self._widths: dict = {}
        self.drawn: list[str] = []  # every table line drawn, in order (what the reader sees)

    def text_of(self, value) -> str:
        text = display(value)
        if len(text) > MAX_CELL:
            text = text[:MAX_CELL] + "…"
        return text

    def footer(self):
        self.set_y(-10)
        self.set_font(self.family, "", 7)
        self.set_text_color(110)
        self.cell(
            0, 5, self.text_of(f"{self.record_title} · page {self.page_no()}/{{nb}}"), align="C"
        )
        self.set_text_color(0)

    # --- Measuring and wrapping -------------------------------------------------------------

    def width_of(self, text: str) -> float:
        key = (self.font_style, self.font_size_pt, text)
        width = self._widths.get(key)
        if width is None:
            covered = "".join(c for c in text if ord(c) in self.covered)
            width = self.get_string_width(covered) + self.font_size * (len(text) - len(covered))
            self._widths[key] = width
        return width

    def wrap(self, text: str, width: float) -> list[str]:
        """Lines of at most ``width`` mm, broken at spaces; a longer token is broken inside."""
        lines: list[str] = []
        space = self.width_of(" ")
        for paragraph in text.split("\n"):
            current, used = "", 0.0
            for word in paragraph.split(" "):
                size = self.width_of(word)
                if current and used + space + size <= width:
                    current, used = f"{current} {word}", used + space + size
                    continue
                if current:
                    lines.append(current)
                while size > width and len(word) > 1:
                    cut = len(word) - 1
                    while cut > 1 and self.width_of(word[:cut]) > width:
                        cut -= 1
                    lines.append(word[:cut])
                    word = word[cut:]
                    size = self.width_of(word)
                current, used = word, size
            lines.append(current)
        return lines

    def draw_text_line(self, x: float, top: float, width: float, height: float, text: str) -> None:
        if not text:
            return
        self.drawn.append(text)
        if all(ord(c) in self.covered for c in text):
            self.text(x, top + height * 0.78, text)
        else:  # cell() applies the fallback font to the characters DejaVu lacks
            self.set_xy(x, top)
            self.cell(width, height, text)


def _characters(record: ReleaseRecord) -> set[str]:
    found: set[str] = set()
    for section in record.sections:
        found.update(section.title)
        for text in section.findings + section.notes:
            found.update(text)
        for label, value in section.facts:
            found.update(label + display(value))
        for table in section.tables:
            found.update(table.title + table.empty)
            for _key, label in table.columns:
                found.update(label)
            for row in table.rows:
                for value in row.values():
                    found.update(display(value))
    found.update(record.release.project.name + record.release.title)
    return found


def _section(pdf: _RecordPDF, section: Section) -> None:
    pdf.set_font(pdf.family, "B", 13)
    pdf.ln(3)
    pdf.multi_cell(0, 7, pdf.text_of(section.title), new_x="LMARGIN", new_y="NEXT")
    if section.findings:
        pdf.set_font(pdf.family, "B", 9)
        pdf.set_text_color(160, 20, 20)
        for finding in section.findings:
            pdf.multi_cell(0, 5, pdf.text_of("! " + finding), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
    if section.facts:
        _grid(
            pdf,
            widths=[45.0, pdf.epw - 45.0],
            heading=None,
            rows=[[pdf.text_of(label), pdf.text_of(value)] for label, value in section.facts],
            size=8.5,
            fill_rows=False,
        )
    for note in section.notes:
        pdf.set_font(pdf.family, "", 8)
        pdf.set_text_color(90)
        pdf.multi_cell(0, 4.5, pdf.text_of(note), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
    for table in section.tables:
        _table(pdf, table)


def _table(pdf: _RecordPDF, table: Table) -> None:
    pdf.ln(1.5)
    pdf.set_font(pdf.family, "B", 9.5)
    pdf.multi_cell(0, 5.5, pdf.text_of(table.title), new_x="LMARGIN", new_y="NEXT")
    if not table.rows:
        pdf.set_font(pdf.family, "", 8)
        pdf.set_text_color(110)
        pdf.multi_cell(0, 4.5, pdf.text_of(table.empty), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
        return
    size = 6.2 if table.mono else 7.5
    rows = [[pdf.text_of(data.get(key)) for key, _label in table.columns] for data in table.rows]
    heading = [pdf.text_of(label) for _key, label in table.columns]
    pdf.set_font(pdf.family, "", size)
    widths = _widths(pdf, table, rows, heading)
    _grid(pdf, widths=widths, heading=heading, rows=rows, size=size, fill_rows=True)


def _grid(pdf, *, widths, heading, rows, size, fill_rows) -> None:
    """Draw rows of wrapped cells; the heading is repeated on each new page."""
    line_height = size * 0.5
    pdf.set_draw_color(200, 205, 215)
    pdf.set_line_width(0.15)

    def draw(cells, *, bold: bool, fill) -> None:
        pdf.set_font(pdf.family, "B" if bold else "", size)
        wrapped = [
            pdf.wrap(text, width - 2 * PAD) for text, width in zip(cells, widths, strict=True)
        ]
        height = max(len(lines) for lines in wrapped) * line_height + 2 * PAD
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            if heading is not None and not bold:
                draw(heading, bold=True, fill=HEADING_FILL)
                pdf.set_font(pdf.family, "", size)
        top = pdf.get_y()
        x = pdf.l_margin
        for lines, width in zip(wrapped, widths, strict=True):
            if fill is not None:
                pdf.set_fill_color(*fill)
                pdf.rect(x, top, width, height, style="DF")
            else:
                pdf.rect(x, top, width, height)
            for index, text in enumerate(lines):
                pdf.draw_text_line(
                    x + PAD, top + PAD + index * line_height, width - 2 * PAD, line_height, text
                )
            x += width
        pdf.set_xy(pdf.l_margin, top + height)

    if heading is not None:
        draw(heading, bold=True, fill=HEADING_FILL)
    for index, cells in enumerate(rows):
        draw(cells, bold=False, fill=ROW_FILL if fill_rows and index % 2 else None)
    pdf.ln(1)


def _widths(pdf: _RecordPDF, table: Table, rows, heading) -> list[float]:
    """Share the page by how much each column holds, never narrower than its longest word.

    Columns of long tokens (hashes, JSON, links: a token over ``LONG_TOKEN`` characters)
    are the ones that give way: their tokens break inside, words never do.
    """
    total = pdf.epw
    weights, minimums = [], []
    size = pdf.font_size_pt
    pdf.set_font(pdf.family, "B", size)  # headings are bold, so wider
    heading_words = [
        max((pdf.width_of(w) for w in label.split() if len(w) <= LONG_TOKEN), default=0.0)
        for label in heading
    ]
    pdf.set_font(pdf.family, "", size)
    for index, (key, label) in enumerate(table.columns):
        texts = [heading[index]] + [row[index] for row in rows[:200]]
        tokens = [word for text in texts for word in text.split()]
        words = [w for w in tokens if len(w) <= LONG_TOKEN]
        longest_word = (
            max([heading_words[index]] + [pdf.width_of(w) for w in words]) + 2 * PAD + 0.4
        )
        if key in table.mono or len(words) < len(tokens):
            minimums.append(max(longest_word, min(SOFT_MINIMUM, pdf.width_of("m" * 40))))
        else:
            minimums.append(longest_word)
        if key in table.mono:
            weights.append(4.2)
            continue
        longest = max([len(label)] + [min(len(text), 60) for text in texts[1:]])
        weights.append(max(1.0, min(longest / 10, 4.0)))
    if sum(minimums) >= total:
        scale = total / sum(minimums)
        return [m * scale for m in minimums]
    widths = [total * w / sum(weights) for w in weights]
    fixed: set[int] = set()
    while True:
        short = {i for i, w in enumerate(widths) if i not in fixed and w < minimums[i]}
        if not short:
            return widths
        fixed |= short
        rest = [i for i in range(len(widths)) if i not in fixed]
        room = total - sum(minimums[i] for i in fixed)
        share = sum(weights[i] for i in rest) or 1.0
        widths = [
            minimums[i] if i in fixed else room * weights[i] / share for i in range(len(widths))
        ]


def record_pdf(record: ReleaseRecord) -> bytes:
    return record_pdf_document(record).output_bytes


def record_pdf_document(record: ReleaseRecord) -> _RecordPDF:
    """The laid-out document (``output_bytes`` holds the PDF; ``drawn`` the table lines)."""
    release = record.release
    title = f"Release record: {release.project.name} {release.version}"
    pdf = _RecordPDF(title, _characters(record))
    pdf.set_title(title)
    pdf.set_author("Shipcheck")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(pdf.family, "B", 17)
    pdf.multi_cell(
        0,
        9,
        pdf.text_of(f"{release.project.name} {release.version} · {release.title}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(pdf.family, "", 8.5)
    pdf.set_text_color(90)
    checkpoint = record.checkpoint
    anchor = (
        f"latest signed checkpoint of the project: sequence number {checkpoint['seq']}, "
        f"project event {checkpoint['project_seq']}, {checkpoint['created_at']}"
        if checkpoint
        else "no signed checkpoint of this project yet"
    )
    pdf.multi_cell(
        0,
        4.5,
        pdf.text_of(f"Generated {display(record.generated_at)} by Shipcheck; {anchor}."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(0)
    for section in record.sections:
        _section(pdf, section)
    pdf.output_bytes = bytes(pdf.output())
    return pdf
