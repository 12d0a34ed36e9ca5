"""utils/booleans.py: one list of true/false words, for connection extras and imported rows alike."""

from __future__ import annotations

import pytest

from airflow_provider_simplestore.client.settings import _Reader
from airflow_provider_simplestore.utils.booleans import FALSE_WORDS, TRUE_WORDS, boolean_word
from airflow_provider_simplestore.utils.import_rows import TARGETS, parse_row


@pytest.mark.parametrize("word", sorted(TRUE_WORDS | FALSE_WORDS))
def test_the_extras_and_the_import_rows_read_the_same_words(word: str) -> None:
    expected = word in TRUE_WORDS
    for text in (word, f" {word.upper()} "):
        assert boolean_word(text) is expected
        assert _Reader("c", {"allow_insecure_http": text}).boolean("allow_insecure_http") is expected
        assert parse_row(TARGETS["products"], {"slug": "s", "isActive": text})["isActive"] is expected


@pytest.mark.parametrize("text", ["", "maybe", "2", "tru"])
def test_other_text_is_neither(text: str) -> None:
    assert boolean_word(text) is None
    with pytest.raises(ValueError, match="expected true or false"):
        parse_row(TARGETS["products"], {"slug": "s", "isActive": text})
