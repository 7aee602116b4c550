"""The release record as a PDF, drawn with fpdf2 (pure Python, no system binaries).

Text uses DejaVu Sans when the system has it, so names and notes in any
script print as written; without it the built-in Helvetica is used and
characters outside Latin-1 print as '?'. The JSON record is the exact one.
"""

from __future__ import annotations

import logging
import os

from fpdf import FPDF
from fpdf.enums import TableCellFillMode, WrapMode
from fpdf.fonts import FontFace

from audit.record import ReleaseRecord, Section, Table, display

# Where Debian, Ubuntu, Fedora and Alpine put DejaVu Sans.
FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    (
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/ttf-dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/ttf-dejavu/DejaVuSans-Bold.ttf",
    ),
)
MAX_CELL = 600
# fontTools reports every font subset at INFO; nobody needs that in the log.
logging.getLogger("fontTools").setLevel(
    logging.WARNING
)  # characters per cell in print; the JSON record carries the full text


class _RecordPDF(FPDF):
    def __init__(self, title: str):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.record_title = title
        self.family = "Helvetica"
        self.unicode = False
        for regular, bold in FONT_CANDIDATES:
            if os.path.exists(regular) and os.path.exists(bold):
                self.add_font("DejaVu", "", regular)
                self.add_font("DejaVu", "B", bold)
                self.family = "DejaVu"
                self.unicode = True
                break
        self.set_auto_page_break(auto=True, margin=14)
        self.set_margins(12, 12, 12)

    def text_of(self, value) -> str:
        text = display(value)
        if len(text) > MAX_CELL:
            text = text[:MAX_CELL] + "…"
        if not self.unicode:
            text = text.replace("…", "...").replace("→", "->").replace("✗", "x")
            text = text.encode("latin-1", "replace").decode("latin-1")
        return text

    def footer(self):
        self.set_y(-10)
        self.set_font(self.family, "", 7)
        self.set_text_color(110)
        self.cell(
            0, 5, self.text_of(f"{self.record_title} · page {self.page_no()}/{{nb}}"), align="C"
        )
        self.set_text_color(0)


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
        pdf.set_font(pdf.family, "", 8.5)
        with pdf.table(
            col_widths=(45, 228),
            first_row_as_headings=False,
            line_height=4.6,
            text_align="LEFT",
            wrapmode=WrapMode.CHAR,
            padding=1,
        ) as table:
            for label, value in section.facts:
                row = table.row()
                row.cell(pdf.text_of(label))
                row.cell(pdf.text_of(value))
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
    pdf.set_font(pdf.family, "", size)
    widths = _widths(table)
    with pdf.table(
        col_widths=widths,
        line_height=size * 0.5,
        text_align="LEFT",
        wrapmode=WrapMode.CHAR,
        padding=0.8,
        headings_style=FontFace(emphasis="BOLD", fill_color=(232, 236, 244)),
        cell_fill_mode=TableCellFillMode.ROWS,
        cell_fill_color=(248, 249, 252),
    ) as pdf_table:
        heading = pdf_table.row()
        for _key, label in table.columns:
            heading.cell(pdf.text_of(label))
        for data in table.rows:
            row = pdf_table.row()
            for key, _label in table.columns:
                row.cell(pdf.text_of(data.get(key)))


def _widths(table: Table) -> tuple[float, ...]:
    """Hash columns get room for 64 characters; the rest share the page by how much they hold."""
    weights = []
    for key, label in table.columns:
        if key in table.mono:
            weights.append(4.2)
            continue
        longest = max([len(label)] + [min(len(display(r.get(key))), 60) for r in table.rows[:200]])
        weights.append(max(1.0, min(longest / 10, 4.0)))
    return tuple(weights)


def record_pdf(record: ReleaseRecord) -> bytes:
    release = record.release
    title = f"Release record: {release.project.name} {release.version}"
    pdf = _RecordPDF(title)
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
    return bytes(pdf.output())
