"""The scripted backend that agent-loop tests use."""

import pytest

from codeact.llm.base import LLM, Completion, LLMError
from codeact.llm.scripted import ScriptedLLM, approx_tokens


def collect(llm: ScriptedLLM, **kwargs: object) -> tuple[list[str], Completion]:
    items = list(llm.stream([{"role": "user", "content": "hi"}], **kwargs))  # type: ignore[arg-type]
    assert isinstance(items[-1], Completion)
    assert all(isinstance(i, str) for i in items[:-1])
    return items[:-1], items[-1]  # type: ignore[return-value]


def test_replays_in_order_and_implements_protocol() -> None:
    llm = ScriptedLLM(["one", "two"])
    assert isinstance(llm, LLM)
    assert llm.complete([{"role": "user", "content": "a"}]).text == "one"
    assert llm.complete([{"role": "user", "content": "b"}]).text == "two"
    assert [c[-1]["content"] for c in llm.calls] == ["a", "b"]
    assert llm.remaining == 0


def test_streams_small_chunks_and_counts_tokens() -> None:
    llm = ScriptedLLM(["abcdefghij"], chunk_size=3)
    deltas, done = collect(llm)
    assert deltas == ["abc", "def", "ghi", "j"]
    assert done.text == "abcdefghij"
    assert done.completion_tokens == approx_tokens("abcdefghij") == 3
    assert done.prompt_tokens > 0
    assert done.finish_reason == "stop" and done.stop_sequence is None


def test_stops_at_first_stop_sequence_without_the_stop_text() -> None:
    reply = "Thought.\n<execute>\nprint(1)\n</execute>\nObservation: fake\n</solution>"
    llm = ScriptedLLM([reply])
    deltas, done = collect(llm, stop=["</solution>", "</execute>"])
    assert done.text == "Thought.\n<execute>\nprint(1)\n"
    assert "".join(deltas) == done.text
    assert done.stop_sequence == "</execute>"
    assert done.finish_reason == "stop"


def test_template_stop_tokens_apply_too() -> None:
    llm = ScriptedLLM(["answer<|im_end|>junk"], stop_tokens=["<|im_end|>"])
    done = llm.complete([{"role": "user", "content": "q"}])
    assert done.text == "answer" and done.stop_sequence == "<|im_end|>"


def test_max_tokens_truncates_with_length() -> None:
    llm = ScriptedLLM(["x" * 100])
    done = llm.complete([{"role": "user", "content": "q"}], max_tokens=5)
    assert done.text == "x" * 20
    assert done.finish_reason == "length" and done.stop_sequence is None


def test_callable_replies_see_the_messages() -> None:
    llm = ScriptedLLM(lambda msgs: f"you said {msgs[-1]['content']}")
    assert llm.complete([{"role": "user", "content": "ping"}]).text == "you said ping"
    assert llm.remaining is None


def test_running_out_of_replies_is_a_clear_error() -> None:
    llm = ScriptedLLM(["only"])
    llm.complete([{"role": "user", "content": "1"}])
    with pytest.raises(LLMError, match="ran out of replies: call 2 but only 1 scripted"):
        llm.complete([{"role": "user", "content": "2"}])


def test_callable_must_return_str() -> None:
    llm = ScriptedLLM(lambda msgs: 42)  # type: ignore[arg-type, return-value]
    with pytest.raises(LLMError, match="returned int"):
        llm.complete([{"role": "user", "content": "q"}])


def test_bad_chunk_size() -> None:
    with pytest.raises(ValueError):
        ScriptedLLM(["x"], chunk_size=0)
