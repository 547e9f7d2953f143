"""The grammar-checked greedy sampler gives the library's own tokens (real 0.5B model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.llm import llamacpp_sampler
from assistant.llm.model_files import InstalledModel
from tests.llm.conftest import TEST_THREADS
from tests.llm.investigation_schema import CLASSIFY_MESSAGES, SuggestedClassification

pytestmark = pytest.mark.model

GREEDY = {"temperature": 0.0, "top_p": 1.0, "top_k": 0, "min_p": 0.0, "repeat_penalty": 1.0}


@pytest.fixture(scope="module")
def llama(small_model: InstalledModel) -> Iterator[Any]:
    import llama_cpp

    model = llama_cpp.Llama(
        model_path=str(small_model.path),
        n_ctx=1024,
        n_threads=TEST_THREADS,
        n_threads_batch=TEST_THREADS,
        verbose=False,
    )
    yield model
    model.close()


def _reply(llama: Any, max_tokens: int = 80, **sampling: Any) -> str:
    llama.reset()  # each run evaluates the prompt afresh: same logits for both samplers
    result = llama.create_chat_completion(
        messages=list(CLASSIFY_MESSAGES),
        max_tokens=max_tokens,
        response_format={
            "type": "json_object",
            "schema": SuggestedClassification.model_json_schema(),
        },
        **(GREEDY | sampling),
    )
    return str(result["choices"][0]["message"]["content"])


@pytest.mark.parametrize("narrow_to", [llamacpp_sampler.NARROW_TO, 1])
def test_the_checked_sampler_picks_the_same_tokens_as_the_librarys_chain(
    llama: Any, narrow_to: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the best 1 (the rejected best token itself), every rejection filters the whole
    vocabulary: that path is checked too."""
    import llama_cpp

    monkeypatch.setattr(llamacpp_sampler, "NARROW_TO", narrow_to)
    library_init = llama._init_sampler
    library_text = _reply(llama)
    llamacpp_sampler.install(llama, llama_cpp)
    try:
        checked_text = _reply(llama)
        sampler = llama._sampler
    finally:
        llama._init_sampler = library_init

    assert isinstance(sampler, llamacpp_sampler.GrammarCheckedGreedy)
    # the best token accepted alone, and the best allowed token found among the top ones or,
    # with none there, in the whole vocabulary
    counts = (sampler.checked, sampler.narrowed, sampler.filtered)
    assert sampler.checked > 0, counts
    assert (sampler.narrowed > 0) if narrow_to > 1 else (sampler.filtered > 0), counts
    assert checked_text == library_text
    SuggestedClassification.model_validate(json.loads(checked_text))


def test_other_sampling_settings_keep_the_librarys_chain(llama: Any) -> None:
    import llama_cpp

    library_init = llama._init_sampler
    llamacpp_sampler.install(llama, llama_cpp)
    try:
        _reply(llama, max_tokens=4, temperature=0.7, seed=1)
        assert not isinstance(llama._sampler, llamacpp_sampler.GrammarCheckedGreedy)
        _reply(llama, max_tokens=4, repeat_penalty=1.1)
        assert not isinstance(llama._sampler, llamacpp_sampler.GrammarCheckedGreedy)
    finally:
        llama._init_sampler = library_init
