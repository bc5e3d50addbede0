"""Copy every table in benchmarks/results/*.md into README.md between its markers.

Each benchmark writes ``benchmarks/results/<name>.md``; the README holds
``<!-- results:<name> -->`` ... ``<!-- /results:<name> -->`` where the table belongs.
Run: ``python -m benchmarks.readme`` (after the benchmarks).
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def demote(markdown: str, levels: int = 3) -> str:
    """Push a results file's headings below the README section that holds them."""
    return "\n".join("#" * levels + line if line.startswith("#") else line for line in markdown.splitlines())


def fill(readme: str, name: str, table: str) -> str:
    """Replace the block between the markers of ``name`` (unchanged if there are none)."""
    table = demote(table)
    pattern = re.compile(rf"(<!-- results:{name} -->\n).*?(<!-- /results:{name} -->)", re.S)
    return pattern.sub(lambda m: m.group(1) + table.strip() + "\n" + m.group(2), readme)


def main() -> None:
    path = ROOT / "README.md"
    text = path.read_text()
    for table in sorted(RESULTS.glob("*.md")):
        text = fill(text, table.stem, table.read_text())
    path.write_text(text)


if __name__ == "__main__":
    main()
