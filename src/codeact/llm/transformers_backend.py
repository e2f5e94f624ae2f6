"""In-process Hugging Face ``transformers`` backend (extra ``hf``).

``AutoModelForCausalLM`` + the tokenizer's chat template; generation runs in a thread
and streams through ``TextIteratorStreamer``. transformers and torch are imported only
when a model is built, with a clear error when they are missing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .base import BaseLLM, LLMError, Message, StreamEnd, StreamRequest
from .special import defuse_messages, hf_markers


def _import_hf() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise LLMError(
            f"the transformers backend needs transformers and torch ({exc.name} is missing): "
            "pip install 'codeact[hf]'"
        ) from exc
    return transformers, torch


class TransformersLLM(BaseLLM):
    """A Hugging Face checkpoint (hub repo id or local directory) run in-process."""

    in_process = True  # one model in this process: one generation at a time

    def __init__(
        self,
        model: str,
        *,
        device: str | None = None,
        dtype: str | None = "auto",
        n_threads: int | None = None,
        trust_remote_code: bool = False,
        name: str | None = None,
        model_obj: Any = None,
        tokenizer: Any = None,
    ):
        transformers, torch = _import_hf()
        self._torch = torch
        self._transformers = transformers
        self.name = name or f"hf:{model}"
        if n_threads:
            torch.set_num_threads(n_threads)
        try:
            self.tokenizer = tokenizer or transformers.AutoTokenizer.from_pretrained(
                model, trust_remote_code=trust_remote_code)
            self.model = model_obj or transformers.AutoModelForCausalLM.from_pretrained(
                model, torch_dtype=dtype, trust_remote_code=trust_remote_code)
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LLMError(f"cannot load Hugging Face model {model}: {first}") from exc
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        if model_obj is None:
            self.model.to(device)
        self.model.eval()
        if not getattr(self.tokenizer, "chat_template", None):
            raise LLMError(f"{model} has no chat template in its tokenizer config")
        ends = [self.tokenizer.eos_token, "<|im_end|>" if "<|im_end|>" in
                str(self.tokenizer.chat_template) else None]
        self.stop_tokens = [t for t in dict.fromkeys(ends) if t]
        self._markers = hf_markers(self.tokenizer)
        self._lock = threading.Lock()
        limit = getattr(self.model.config, "max_position_embeddings", None)
        self.context_window = int(limit) if isinstance(limit, int) and limit > 0 else None

    def render(self, messages: Sequence[Message]) -> str:
        return self.tokenizer.apply_chat_template(
            defuse_messages(messages, self._markers), tokenize=False,
            add_generation_prompt=True)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.tokenizer(self.render(messages), add_special_tokens=False)["input_ids"])

    def _raw_stream(self, messages: list[Message],
                    request: StreamRequest) -> Iterator[str | StreamEnd]:
        prompt = self.render(messages)
        inputs = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        n_prompt = int(inputs["input_ids"].shape[-1])
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit and n_prompt >= limit:
            raise LLMError(f"prompt is {n_prompt} tokens but the model's context is {limit}")
        streamer = self._transformers.TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=False, timeout=0.2)
        stop_event = threading.Event()
        generated: dict[str, Any] = {}

        class _Stop(self._transformers.StoppingCriteria):  # type: ignore[name-defined,misc]
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return stop_event.is_set()

        gen_kwargs: dict[str, Any] = dict(
            **inputs, max_new_tokens=request.max_tokens, streamer=streamer,
            stopping_criteria=self._transformers.StoppingCriteriaList([_Stop()]),
            pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
        )
        if request.temperature > 0:
            gen_kwargs.update(do_sample=True, temperature=request.temperature)
            if request.seed is not None:
                self._torch.manual_seed(request.seed)
        else:
            gen_kwargs.update(do_sample=False)

        def run() -> None:
            try:
                with self._torch.no_grad():
                    generated["out"] = self.model.generate(**gen_kwargs)
            except BaseException as exc:  # noqa: BLE001 - reported to the caller below
                generated["error"] = exc

        def pieces() -> Iterator[str]:
            """The streamer's text; ends when generation ends, however it ends."""
            it = iter(streamer)
            while True:
                try:
                    yield next(it)
                except StopIteration:
                    return
                except queue.Empty:
                    if not worker.is_alive():
                        return

        with self._lock:
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            try:
                for piece in pieces():
                    yield piece
                    if request.stopped is not None:
                        break
            finally:
                stop_event.set()
                for _ in pieces():  # drain so the worker can finish
                    pass
                worker.join()
        if "error" in generated:
            exc = generated["error"]
            raise LLMError(f"generation failed: {type(exc).__name__}: {exc}")
        out = generated.get("out")
        n_new = int(out.shape[-1]) - n_prompt if out is not None else 0
        yield StreamEnd(
            finish_reason="stop" if n_new < request.max_tokens else "length",
            prompt_tokens=n_prompt,
            completion_tokens=max(0, n_new),
        )
