"""Django's {# … #} comment ends on its own line; one spread over lines is printed as text
on the page (base.html's was, above every page's top bar). Longer ones are {% comment %}."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_comment_tag_spans_lines() -> None:
    names = subprocess.run(
        ["git", "ls-files", "*.html", "*.txt"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    open_comments = [
        f"{name}:{number}"
        for name in names
        for number, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\{#(?!.*#\})", line)
    ]
    assert open_comments == []
