"""Quote-span matching: verbatim and near-verbatim quotes pass, fabricated ones fail."""

from __future__ import annotations

import pytest

from assistant.verification.quote_match import find_quote
from assistant.verification.text_normalization import normalize, normalize_with_offsets

PDF_CHUNK = (
    "6.3 Drying. The operator shall veri-\n"
    "fy that the inlet air temperature is within 55–65 °C before start. If the ﬁlter\n"
    "differential pressure exceeds the “action limit”, stop the granulator and notify QA\n"
    "within 30 minutes. Record the event in the equipment log-\nbook GR-201."
)


def highlighted(quote: str) -> str:
    match = find_quote(PDF_CHUNK, quote)
    assert match.found, match.reason
    assert match.start is not None and match.end is not None
    return PDF_CHUNK[match.start : match.end]


def test_verbatim_across_a_hyphenated_line_break() -> None:
    span = highlighted("verify that the inlet air temperature is within 55-65 °C")
    assert span == "veri-\nfy that the inlet air temperature is within 55–65 °C"


def test_ligature_curly_quotes_and_case() -> None:
    span = highlighted('if the filter differential pressure exceeds the "Action Limit"')
    assert span.startswith("If the ﬁlter\ndifferential")
    assert span.endswith("limit”") or span.endswith("limit")


def test_whole_quote_wrapped_in_quote_marks() -> None:
    match = find_quote(PDF_CHUNK, "“stop the granulator and notify QA”")
    assert match.found and match.exact


def test_near_verbatim_paraphrase_passes_with_score_below_one() -> None:
    match = find_quote(
        PDF_CHUNK,
        "If the filter differential pressure exceeds its action limit, stop the granulator",
    )
    assert match.found and not match.exact
    assert 0.9 <= match.score < 1.0


def test_same_words_in_another_order_fail() -> None:
    match = find_quote(
        PDF_CHUNK, "the granulator differential exceeds the filter pressure and QA stops the limit"
    )
    assert not match.found


def test_fabricated_sentence_fails() -> None:
    match = find_quote(PDF_CHUNK, "Operators must record the temperature in the logbook every hour")
    assert not match.found
    assert match.score < 0.9


def test_changed_number_fails_even_if_nearly_identical() -> None:
    match = find_quote(PDF_CHUNK, "the inlet air temperature is within 55-75 °C before start")
    assert not match.found
    assert "75" in match.reason


def test_inserted_negation_fails() -> None:
    match = find_quote(PDF_CHUNK, "stop the granulator and do not notify QA within 30 minutes")
    assert not match.found


def test_short_quote_must_be_exact() -> None:
    assert find_quote(PDF_CHUNK, "notify QA").found
    assert not find_quote(PDF_CHUNK, "notify QP").found


def test_ellipsis_fragments_in_order() -> None:
    match = find_quote(PDF_CHUNK, "The operator shall verify … notify QA within 30 minutes")
    assert match.found
    assert match.start is not None and match.end is not None
    assert PDF_CHUNK[match.start : match.end].startswith("The operator")
    assert PDF_CHUNK[match.start : match.end].endswith("30 minutes")
    # the same fragments in the wrong order are not a quote of this text
    assert not find_quote(
        PDF_CHUNK, "notify QA within 30 minutes ... The operator shall verify"
    ).found


def test_hyphenated_word_split_over_lines_matches_either_spelling() -> None:
    assert find_quote(PDF_CHUNK, "Record the event in the equipment logbook GR-201").found
    assert find_quote(PDF_CHUNK, "Record the event in the equipment log-book GR-201").found


@pytest.mark.parametrize("quote", ["", "   ", "…"])
def test_empty_quote_is_not_found(quote: str) -> None:
    match = find_quote(PDF_CHUNK, quote)
    assert not match.found and match.start is None


def test_empty_chunk() -> None:
    assert not find_quote("", "anything at all here").found


def test_normalisation_offsets_point_into_the_original() -> None:
    text = "A  ﬁne\u2014day “x”"
    norm = normalize_with_offsets(text)
    assert norm.text == 'a fine-day "x"'
    fine = norm.text.index("fine")
    start, end = norm.original_span(fine, fine + 4)
    assert text[start:end] == "ﬁne"
    assert normalize("Line-\nbreak") == "linebreak"
    assert normalize("Line -\n Break") == "line - break"  # capitalised: not a split word
