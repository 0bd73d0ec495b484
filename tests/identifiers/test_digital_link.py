"""Digital Link structure and the syntax dictionary it is read from."""

from __future__ import annotations

import pytest

from medledger.identifiers.digital_link import (
    DL_PRIMARY_KEYS,
    DigitalLinkSyntaxError,
    encode_value,
    has_key_path,
    qualifiers_allowed,
    split_key_path,
    split_query,
)
from medledger.identifiers.syntax_dictionary import ai_matches, syntax_dictionary


def test_dictionary_covers_every_ai_biip_knows() -> None:
    from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS

    # then both know the same 541 AIs and agree on which need no separator
    dictionary = syntax_dictionary()
    assert len(dictionary) == 541
    assert set(dictionary) == set(_GS1_APPLICATION_IDENTIFIERS)
    assert all(
        dictionary[ai].predefined_length is not info.separator_required
        for ai, info in _GS1_APPLICATION_IDENTIFIERS.items()
    )


def test_dictionary_entry_of_the_gtin() -> None:
    entry = syntax_dictionary()["01"]
    assert entry.title == "GTIN"
    assert entry.predefined_length and entry.dl_data_attribute
    assert entry.excludes == ("255", "37")
    assert entry.dl_qualifier_sequences == (("22", "10", "21"), ("235",))
    assert entry.linter_spans("csum") == [(0, 14)]


def test_dictionary_expands_ai_ranges_and_repeated_requirements() -> None:
    assert syntax_dictionary()["3103"].excludes == ("310n",)
    # "37 req=00 req=02,8026": both requirements hold
    assert syntax_dictionary()["37"].requires == ((("00",),), (("02",), ("8026",)))


def test_primary_keys_and_qualifiers_follow_dlpkey() -> None:
    assert DL_PRIMARY_KEYS == {
        "00": ((),),
        "01": (("22", "10", "21"), ("235",)),
        "253": ((),),
        "255": ((),),
        "401": ((),),
        "402": ((),),
        "414": (("254",), ("7040",)),
        "415": (("8020",),),
        "417": (("7040",),),
        "8003": ((),),
        "8004": (("7040",),),
        "8006": (("22", "10", "21"),),
        "8010": (("8011",),),
        "8013": ((),),
        "8017": (("8019",),),
        "8018": (("8019",),),
    }


@pytest.mark.parametrize(
    ("qualifiers", "allowed"),
    [
        ([], True),
        (["22", "10", "21"], True),
        (["22", "21"], True),
        (["10"], True),
        (["235"], True),
        (["10", "22"], False),  # bad order
        (["22", "10", "235"], False),  # alternatives may not mix
        (["21", "21"], False),
    ],
)
def test_gtin_qualifier_sequences(qualifiers: list[str], allowed: bool) -> None:
    assert qualifiers_allowed("01", qualifiers) is allowed


def test_ai_patterns() -> None:
    assert ai_matches("31nn", "3103")
    assert not ai_matches("31nn", "310")
    assert not ai_matches("310n", "3113")


def test_split_key_path_translates_short_names_and_pads_gtins() -> None:
    assert split_key_path("/shop/gtin/9506000134352/lot/A%2FB/ser/7") == [
        ("01", "09506000134352"),
        ("10", "A/B"),
        ("21", "7"),
    ]


@pytest.mark.parametrize(
    "path",
    ["/01/09506000134352/99/X", "/01/09506000134352/", "/01//09506000134352", "/abc/def"],
)
def test_split_key_path_refuses_broken_key_paths(path: str) -> None:
    with pytest.raises(DigitalLinkSyntaxError):
        split_key_path(path)


def test_has_key_path() -> None:
    assert has_key_path("/x/01/1")
    assert not has_key_path("/x/y/01")
    assert not has_key_path("/things/42")


def test_split_query_keeps_gs1_attributes_in_order() -> None:
    assert split_query("foo=1&17=251231&&exp=251130&3103=000195&x&10=A+B%2FC") == [
        ("17", "251231"),
        ("17", "251130"),
        ("3103", "000195"),
        ("10", "A B/C"),
    ]


def test_split_query_refuses_empty_gs1_values() -> None:
    with pytest.raises(DigitalLinkSyntaxError):
        split_query("99=")


def test_encode_value() -> None:
    assert encode_value("6789/&%\"!?()*+,:;=' <>") == (
        "6789%2F%26%25%22%21%3F%28%29%2A%2B%2C%3A;='%20%3C%3E"
    )
