"""Tokenise a conversation with the model's chat template and mask the loss to the
assistant's own tokens.

The whole conversation is rendered once and tokenised once (so token boundaries are the
ones the model sees at inference); each assistant reply's character span is found by
rendering the conversation up to that reply with the generation prompt, and a token is
learned when it overlaps such a span. The span runs from the first character the model
would generate to the end-of-turn token included (``<|im_end|>`` for ChatML), so the model
learns to stop; whatever the template puts after that token (a newline) stays masked, like
system, user and observation turns and the ``<|im_start|>assistant`` header itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codeact.errors import CodeactError
from codeact.llm.special import defuse_messages, hf_markers

IGNORE = -100

# ChatML, used for bases whose tokenizer has no chat template (as CodeActAgent did).
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CHATML_TOKENS = ("<|im_start|>", "<|im_end|>")

# End-of-turn markers of common templates, tried in order before the tokenizer's EOS.
END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "</s>")


class TemplateError(CodeactError, ValueError):
    """The tokenizer's chat template cannot be used for assistant-only training."""


@dataclass
class Tokenized:
    """One tokenised conversation: ids, labels (``-100`` = masked) and counts."""

    input_ids: list[int]
    labels: list[int]
    truncated: bool = False

    @property
    def n_learned(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


def ensure_chat_template(tokenizer: Any) -> bool:
    """Give a template-less tokenizer ChatML; True when special tokens were added (the
    model's embeddings must then be resized)."""
    if getattr(tokenizer, "chat_template", None):
        return False
    missing = [t for t in CHATML_TOKENS if t not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_special_tokens({"additional_special_tokens": list(CHATML_TOKENS)})
    tokenizer.chat_template = CHATML_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or "<|im_end|>"
    return bool(missing)


def _render(tokenizer: Any, messages: Sequence[dict[str, str]], generation: bool) -> str:
    return tokenizer.apply_chat_template(list(messages), tokenize=False,
                                         add_generation_prompt=generation)


def end_of_turn(tokenizer: Any, assistant_text: str) -> str | None:
    """The end-of-turn marker the template put at the end of an assistant reply."""
    candidates = [*END_OF_TURN, getattr(tokenizer, "eos_token", None)]
    found = [(assistant_text.find(c), c) for c in candidates if c and c in assistant_text]
    return min(found)[1] if found else None


def assistant_spans(tokenizer: Any, messages: Sequence[dict[str, str]]
                    ) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans the model must learn (message
    text rendered as the backends render it: control-token texts defused)."""
    messages = defuse_messages(messages, hf_markers(tokenizer))
    full = _render(tokenizer, messages, generation=False)
    spans: list[tuple[int, int]] = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:i], generation=True) if i else ""
        upto = _render(tokenizer, messages[: i + 1], generation=False)
        if not full.startswith(upto) or not upto.startswith(before):
            raise TemplateError(
                "the chat template does not render a conversation's beginning the same way "
                "as the whole (it rewrites earlier turns), so assistant tokens cannot be "
                "located; pass --chat-template chatml to train with ChatML instead")
        start = len(before)
        reply = full[start:len(upto)]
        content_at = reply.find(message["content"]) if message["content"] else -1
        search_from = content_at + len(message["content"]) if content_at >= 0 else 0
        marker = end_of_turn(tokenizer, reply[search_from:])
        end = len(upto)
        if marker is not None:
            end = start + search_from + reply[search_from:].find(marker) + len(marker)
        spans.append((start, end))
    return full, spans


def tokenize_conversation(tokenizer: Any, messages: Sequence[dict[str, str]],
                          max_length: int | None = None) -> Tokenized:
    """Input ids and labels with every non-assistant token masked (see module doc)."""
    if not getattr(tokenizer, "is_fast", False):
        raise TemplateError("assistant-only masking needs a fast (Rust) tokenizer with "
                            "offset mappings; this one is a slow Python tokenizer")
    full, spans = assistant_spans(tokenizer, messages)
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = list(enc["input_ids"])
    labels = [IGNORE] * len(ids)
    k = 0
    for j, (a, b) in enumerate(enc["offset_mapping"]):
        while k < len(spans) and spans[k][1] <= a:
            k += 1
        if k < len(spans) and b > a and a < spans[k][1] and b > spans[k][0]:
            labels[j] = ids[j]
    truncated = False
    if max_length is not None and len(ids) > max_length:
        ids, labels, truncated = ids[:max_length], labels[:max_length], True
    return Tokenized(ids, labels, truncated)
