"""S3 keys become Dify document names a person reads like a path (`team a∕report.md`), without `/` or `\\`,
within 200 characters, one name per key and reversible (Dify shows the name in citations and upserts by it)."""

from __future__ import annotations

import itertools

import pytest

from difyops_dagster.sync.naming import BACKSLASH, SLASH, document_name, key_from_name


@pytest.mark.parametrize(
    "key",
    [
        "a.md",
        "docs/a b.md",
        "docs/中文 文档.md",
        "x/y/z/report.md",
        "100%/a.md",
        "weird\\back.md",
        "a%2Fb.md",
        "[x]+(.md",
    ],
)
def test_names_have_no_slash_and_map_back_to_their_key(key):
    name = document_name(key)
    assert "/" not in name and "\\" not in name
    assert key_from_name(name) == key


def test_the_mapping_is_injective_for_look_alike_keys():
    keys = ["a/b.md", "a%2Fb.md", "a__b.md", "a b.md", f"a{SLASH}b.md", f"a%{SLASH}b.md", "a%/b.md", "a//b.md"]
    assert len({document_name(k) for k in keys}) == len(keys)


def test_every_short_key_over_the_awkward_characters_has_its_own_name_and_maps_back():
    """Exhaustive over every key of up to four characters drawn from the ones the escaping is about."""
    alphabet = ["a", "/", "\\", "%", SLASH, BACKSLASH, "2", "."]
    names: dict[str, str] = {}
    for length in range(1, 5):
        for chars in itertools.product(alphabet, repeat=length):
            key = "".join(chars)
            name = document_name(key)
            assert "/" not in name and "\\" not in name and key_from_name(name) == key
            assert names.setdefault(name, key) == key, f"{key!r} and {names[name]!r} share {name!r}"


def test_names_read_like_the_path_and_leave_common_characters_alone():
    assert document_name("docs/team a/report.md", "docs/") == f"team a{SLASH}report.md"
    assert document_name("100% done/2024 [draft] (v2).md") == f"100% done{SLASH}2024 [draft] (v2).md"
    assert document_name("win\\path.md") == f"win{BACKSLASH}path.md"


def test_the_prefix_is_left_out_of_the_name():
    assert document_name("docs/team/a.md", "docs/") == f"team{SLASH}a.md"
    assert key_from_name(f"team{SLASH}a.md", "docs/") == "docs/team/a.md"


def test_a_doubled_slash_after_the_prefix_keeps_its_own_name():
    """`docs//x.md` beside `docs/x.md` once mapped to one name and failed the whole plan (issue 13)."""
    assert document_name("docs//x.md", "docs/") == f"{SLASH}x.md" != document_name("docs/x.md", "docs/")


def test_long_keys_are_cut_to_200_keeping_the_extension_and_stay_distinct():
    long_a = "d/" + "x" * 400 + "a.pdf"
    long_b = "d/" + "x" * 400 + "b.pdf"
    name_a, name_b = document_name(long_a), document_name(long_b)
    assert len(name_a) == 200 and name_a.endswith(".pdf") and name_a != name_b
    assert key_from_name(name_a) is None


def test_a_long_name_without_extension_is_cut_and_recognised_as_shortened():
    name = document_name("k/" + "y" * 300)
    assert len(name) == 200 and key_from_name(name) is None


def test_a_200_character_key_is_kept_whole_and_maps_back():
    key = "z" * 197 + ".md"
    assert document_name(key) == key and key_from_name(key) == key
