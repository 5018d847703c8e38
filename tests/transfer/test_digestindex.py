"""The compact duplicate index keeps every key and its line through growth."""

from __future__ import annotations

from mailadmin.digestindex import DigestIndex


def test_keys_and_lines_survive_growth() -> None:
    index = DigestIndex(capacity=4)
    for i in range(10_000):
        index.add(f"mailbox:user{i}@example.com", i + 2)
    assert index.count == 10_000
    assert index.get("mailbox:user0@example.com") == 2
    assert index.get("mailbox:user9999@example.com") == 10_001
    assert "alias:user0@example.com" not in index
    assert index.get("mailbox:nobody@example.com") is None
    assert 2 * 10_000 <= len(index.keys) <= 4 * 10_000  # at most half full


def test_adding_a_key_again_keeps_one_entry() -> None:
    index = DigestIndex()
    index.add("a", 2)
    index.add("a", 7)
    assert index.count == 1 and index.get("a") == 7
