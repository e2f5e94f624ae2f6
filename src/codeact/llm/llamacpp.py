"""In-process llama.cpp backend (``llama-cpp-python``): the embedded default.

- The chat template comes from the GGUF metadata (``tokenizer.chat_template``) and is
  rendered here with llama_cpp's ``Jinja2ChatFormatter``, so the raw prompt is ours.
- The template's end-of-turn / end-of-sequence tokens are stop tokens (``stop_tokens``).
- One ``Llama`` instance lives as long as the backend, and every call goes through
  ``Llama.generate``, which keeps the KV cache of the longest common token prefix with the
  previous call and evaluates only the rest. A growing conversation therefore costs about
  the new tokens per turn. The backend measures (it does not assume) how many prompt
  tokens were really evaluated and reports the rest as ``cached_prompt_tokens``, together
  with ``prompt_seconds``.
- A new conversation (the cache does not hold its first user message) starts from a
  snapshot of the KV cache after its first message alone (the system prompt), made once
  per distinct first message. Without it the first reply of a task depended on the task
  run before it: the cached prefix, and with it how the prompt was split into eval
  batches, changed the floating-point sums enough to flip greedy choices (seen: one
  third-party task, the same prompt at temperature 0, answered differently when rerun
  after a task of another domain). Now a run at temperature 0 is the same whatever ran
  before it in the process.
- Stop sequences are applied to the decoded stream with a hold-back buffer, so partial
  stop text is never emitted.
"""

from __future__ import annotations

import codecs
import ctypes
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .base import BaseLLM, LLMError, Message, StreamEnd, StreamRequest
from .special import defuse_messages, marker_pattern

SNAPSHOTS = 2  # KV-cache snapshots of first messages kept (tasks of one suite share one)

# Used only when a GGUF carries no chat template.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise LLMError(
            "llama-cpp-python is not installed: pip install 'codeact[local]'"
        ) from exc
    return llama_cpp


class LlamaCppLLM(BaseLLM):
    """A GGUF model run in-process, with KV-cache prefix reuse across calls."""

    in_process = True  # one model in this process: one generation at a time

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        n_batch: int = 512,
        seed: int = 0,
        chat_template: str | None = None,
        name: str | None = None,
        verbose: bool = False,
        **llama_kwargs: Any,
    ):
        llama_cpp = _import_llama_cpp()
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        path = Path(model_path).expanduser()
        if not path.is_file():
            raise LLMError(f"model file not found: {path}")
        threads = n_threads or max(1, min(os.cpu_count() or 1, 8))
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(path), n_ctx=n_ctx, n_threads=threads,
                n_threads_batch=threads, n_batch=n_batch, seed=seed, verbose=verbose,
                **llama_kwargs,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise LLMError(f"cannot load model {path}: {exc}") from exc
        self._llama_cpp = llama_cpp
        self.model_path = path
        self.name = name or path.name
        self.n_ctx = self._llm.n_ctx()
        self.context_window = self.n_ctx
        self.n_threads = threads
        model = self._llm._model
        self._vocab = model.vocab

        def token_text(token_id: int) -> str:
            return model.token_get_text(token_id) if token_id >= 0 else ""

        self.eos_token = token_text(model.token_eos())
        self.bos_token = token_text(model.token_bos())
        template = chat_template or self._llm.metadata.get("tokenizer.chat_template")
        self.chat_template = template or CHATML_TEMPLATE
        self._formatter = Jinja2ChatFormatter(
            template=self.chat_template, eos_token=self.eos_token, bos_token=self.bos_token,
        )
        self._add_bos = bool(model.add_bos_token())
        control = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
        self._markers = marker_pattern(
            token_text(t) for t in range(self._llm.n_vocab()) if model.token_get_attr(t) & control)
        ends = [self.eos_token, token_text(model.token_eot())]
        if "<|im_end|>" in self.chat_template:
            ends.append("<|im_end|>")
        self.stop_tokens = [t for t in dict.fromkeys(ends) if t]
        self._lock = threading.Lock()
        self._snapshots: dict[tuple[int, ...], bytes] = {}  # first message -> KV state
        self._evaluated: list[int] = []  # sizes of eval() batches during one call
        real_eval = self._llm.eval

        def counting_eval(tokens: Sequence[int]) -> None:
            self._evaluated.append(len(tokens))
            real_eval(tokens)

        self._llm.eval = counting_eval  # type: ignore[method-assign]

    # ------------------------------------------------------------------ prompt

    def render(self, messages: Sequence[Message]) -> str:
        """The raw prompt text the chat template makes of ``messages``."""
        try:
            msgs: Any = defuse_messages(messages, self._markers)  # llama_cpp's TypedDicts
            return self._formatter(messages=msgs).prompt
        except Exception as exc:  # noqa: BLE001 - jinja errors become one line
            raise LLMError(f"chat template of {self.name} failed: {exc}") from exc

    def tokenize(self, prompt: str) -> list[int]:
        add_bos = self._add_bos and not (self.bos_token and prompt.startswith(self.bos_token))
        return self._llm.tokenize(prompt.encode("utf-8"), add_bos=add_bos, special=True)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.tokenize(self.render(messages)))

    def reset(self) -> None:
        """Forget the KV cache and its snapshots (the next call evaluates its whole
        prompt)."""
        with self._lock:
            self._llm.reset()
            self._snapshots.clear()

    # ------------------------------------------------------------------ cache

    def _lead(self, messages: Sequence[Message], tokens: Sequence[int], n: int) -> int:
        """How many of ``tokens`` the first ``n`` messages alone make (the common prefix
        of the prompt and those messages rendered on their own); 0 when the chat template
        refuses to render them alone (some insist on alternating roles)."""
        try:
            head = self.tokenize(self.render(messages[:n]))
        except LLMError:
            return 0
        return _common_prefix(head, tokens)

    def _start_conversation(self, messages: Sequence[Message], tokens: list[int]) -> int:
        """When the cache does not hold this conversation's first user message, put the
        KV cache in the state of the first message alone, from its snapshot (made here
        the first time); the prompt tokens evaluated for that, else 0."""
        llm = self._llm
        cached = _common_prefix(list(llm.input_ids[:llm.n_tokens]), tokens)
        if len(messages) < 2 or cached >= self._lead(messages, tokens, 2):
            return 0  # the same conversation, continued: its own prefix is reused
        lead = self._lead(messages, tokens, 1)
        if lead <= 0 or lead >= len(tokens):
            return 0
        key = tuple(tokens[:lead])
        state = self._snapshots.pop(key, None)
        if state is None:
            llm.reset()
            llm.eval(list(key))
            ctx = llm._ctx.ctx
            size = self._llama_cpp.llama_state_get_size(ctx)
            buffer = (ctypes.c_uint8 * size)()
            written = self._llama_cpp.llama_state_get_data(ctx, buffer, size)
            self._snapshots[key] = bytes(buffer)[:written]
            while len(self._snapshots) > SNAPSHOTS:
                self._snapshots.pop(next(iter(self._snapshots)))
            return lead
        self._snapshots[key] = state  # most recently used last
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if self._llama_cpp.llama_state_set_data(llm._ctx.ctx, buffer, len(state)) != len(state):
            raise LLMError("cannot restore the KV-cache snapshot")
        llm.input_ids[:lead] = key
        llm.n_tokens = lead
        llm._requires_eval = True
        return 0

    # ------------------------------------------------------------------ generate

    def _raw_stream(self, messages: list[Message],
                    request: StreamRequest) -> Iterator[str | StreamEnd]:
        start = time.perf_counter()
        tokens = self.tokenize(self.render(messages))
        if len(tokens) >= self.n_ctx:
            raise LLMError(
                f"prompt is {len(tokens)} tokens but the context window is {self.n_ctx} "
                f"(n_ctx): shorten the conversation or raise n_ctx"
            )
        budget = min(max(1, request.max_tokens), self.n_ctx - len(tokens))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        is_eog = self._llama_cpp.llama_vocab_is_eog
        with self._lock:
            fresh = self._start_conversation(messages, tokens)
            self._evaluated = []
            generated = 0
            finish = "length"
            eog_text: str | None = None
            prompt_seconds = 0.0
            if request.seed is not None:  # the sampler's RNG: a sampled reply can be redrawn
                self._llm.set_seed(request.seed)
            gen = self._llm.generate(tokens, temp=request.temperature, top_k=40, top_p=0.95,
                                     min_p=0.05, repeat_penalty=1.0)
            try:
                for token in gen:
                    if generated == 0:
                        prompt_seconds = time.perf_counter() - start
                    generated += 1
                    if is_eog(self._vocab, token):
                        finish = "stop"
                        eog_text = self._llm._model.token_get_text(token) or None
                        break
                    piece = decoder.decode(self._llm.detokenize([token], special=True))
                    if piece:
                        yield piece
                    if request.stopped is not None:
                        finish = "stop"
                        break
                    if generated >= budget:
                        break
            finally:
                gen.close()
            evaluated_prompt = fresh + (self._evaluated[0] if self._evaluated else len(tokens))
        if request.stopped is None:
            rest = decoder.decode(b"", final=True)  # an incomplete UTF-8 sequence
            if rest:
                yield rest
        yield StreamEnd(
            finish_reason=finish,
            stop_sequence=eog_text,
            prompt_tokens=len(tokens),
            completion_tokens=generated,
            prompt_seconds=prompt_seconds,
            cached_prompt_tokens=max(0, len(tokens) - evaluated_prompt),
        )


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """The length of the longest common prefix of two token lists."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
