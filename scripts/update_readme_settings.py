"""Rewrite the README's generated configuration table from the settings models (the test compares the two)."""

from pathlib import Path

from difyops_dagster.settings_reference import BEGIN, END, render_settings_table

readme = Path(__file__).resolve().parent.parent / "README.md"
text = readme.read_text()
head, rest = text.split(BEGIN, 1)
_, tail = rest.split(END, 1)
readme.write_text(f"{head}{BEGIN}\n{render_settings_table()}\n{END}{tail}")
