"""S3 keys become Dify document names without `/`, within 200 characters, one name per key."""

from __future__ import annotations

import pytest

from difyops_dagster.sync.naming import document_name, key_from_name


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
    keys = ["a/b.md", "a%2Fb.md", "a__b.md", "a b.md"]
    assert len({document_name(k) for k in keys}) == len(keys)


def test_the_prefix_is_left_out_of_the_name():
    assert document_name("docs/team/a.md", "docs/") == "team%2Fa.md"
    assert key_from_name("team%2Fa.md", "docs/") == "docs/team/a.md"


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
