"""The catalog after each expansion: a source that could not be read keeps the videos it listed (an outage is not a
removal), a source taken out of the settings lists nothing, a video listed twice belongs to the first source in
settings order, and old refs stay fetchable. A tick that found nothing new changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from difyops_dagster.video.catalog import Catalog, new_keys, resolution_cache, update_catalog
from difyops_dagster.video.sources import SourceExpansion, VideoRef

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ref(key: str, source: str, title: str = "t") -> VideoRef:
    return VideoRef(key, f"https://example.com/{key}", "Site", key, source, title)


def first_catalog() -> Catalog:
    return update_catalog(
        Catalog(),
        [
            SourceExpansion("talks", (ref("site:a", "talks"), ref("site:b", "talks"))),
            SourceExpansion("demos", (ref("site:b", "demos"), ref("site:c", "demos"))),
        ],
        NOW,
    )


def test_videos_are_listed_once_in_source_order_and_belong_to_the_first_source():
    catalog = first_catalog()
    assert catalog.current_keys() == ("site:a", "site:b", "site:c")
    assert catalog.videos["site:b"].source == "talks"


def test_a_source_that_fails_keeps_its_videos_and_says_why():
    catalog = update_catalog(
        first_catalog(),
        [SourceExpansion("talks", error="HTTP Error 503"), SourceExpansion("demos", (ref("site:c", "demos"),))],
        LATER,
    )
    assert catalog.current_keys() == ("site:a", "site:b", "site:c")
    assert catalog.sources["talks"].error == "HTTP Error 503"


def test_a_video_no_source_lists_any_more_is_not_current_but_stays_fetchable():
    catalog = update_catalog(first_catalog(), [SourceExpansion("talks", (ref("site:a", "talks"),))], LATER)
    assert catalog.current_keys() == ("site:a",)
    assert set(catalog.videos) == {"site:a", "site:b", "site:c"}


def test_only_keys_that_are_not_partitions_yet_are_new():
    assert new_keys(first_catalog(), ["site:b", "site:zz"]) == ["site:a", "site:c"]


def test_an_unchanged_listing_is_the_same_listing_at_another_time():
    again = update_catalog(
        first_catalog(),
        [
            SourceExpansion("talks", (ref("site:a", "talks"), ref("site:b", "talks"))),
            SourceExpansion("demos", (ref("site:b", "demos"), ref("site:c", "demos"))),
        ],
        LATER,
    )
    assert again.same_listing(first_catalog())
    renamed = update_catalog(first_catalog(), [SourceExpansion("talks", (ref("site:a", "talks", "new"),))], LATER)
    assert not renamed.same_listing(first_catalog())


def test_the_catalog_survives_json():
    catalog = update_catalog(first_catalog(), [SourceExpansion("talks", error="boom")], LATER)
    assert Catalog.from_json(catalog.to_json()) == catalog
    assert Catalog.from_json(None) == Catalog()


def test_remembered_resolutions_map_to_refs_the_catalog_still_has():
    cache = resolution_cache(first_catalog(), {"https://feed/item1": "site:a", "https://feed/gone": "site:zz"})
    assert cache == {"https://feed/item1": first_catalog().videos["site:a"]}
