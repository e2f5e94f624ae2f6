"""Chat replies a person can read: a turn that ended on a bare value gets prose.

In chat (``codeact serve``, ``codeact chat``, the OpenAI-compatible endpoint) a turn ends
with what the user reads. A small model often ends with ``final_answer(396)`` or even
``final_answer(9)``; the user then reads "9". After a value submitted that way the
model is asked once for a short reply in prose (a ``<solution>`` is already the model's
written reply and stands); if what comes back is not prose (code, tags, a bare
value again), a plain sentence is made from the answer, so the user never gets a bare
value, and the value is always in the reply.
"""

from __future__ import annotations

import re

REPLY_TOKENS = 200  # room for one to three sentences
_TAGGED = re.compile(r"<\s*/?\s*(execute|solution)\b|```")


def is_prose(text: str) -> bool:
    """At least a few words of text, not code or tagged actions."""
    stripped = text.strip()
    return len(re.findall(r"[A-Za-z]{2,}", stripped)) >= 3 and not _TAGGED.search(stripped)


def needs_reply(answer: str) -> bool:
    """Whether an answer is a bare value rather than a reply: one token (``9``,
    ``total``, ``True``), a literal without words (``[1, 4, 9]``), or code. Anything with
    words around the value (``Result: **42**``) stands as the model wrote it."""
    text = answer.strip()
    if not text or _TAGGED.search(text) or text.startswith(("def ", "class ", "import ",
                                                            "from ")):
        return True
    return len(text.split()) < 2 or not re.search(r"[A-Za-z]{2,}", text)


def reply_request(answer: str) -> str:
    """The note that asks for the reply (the answer shown, so the model can quote it)."""
    shown = answer if len(answer) <= 300 else answer[:300] + " ..."
    return (f"Your result was recorded: {shown}\n"
            "Now write your reply to the user: one to three sentences of plain prose that "
            "say what you did and the result, with the value itself. No code and no tags.")


def final_reply(text: str, answer: str) -> str:
    """The reply the user reads: the model's prose when it is prose, with the answer
    added when the prose leaves it out; else a sentence made from the answer."""
    text = text.strip()
    if not is_prose(text):
        if "\n" in answer.strip():
            return f"Here is the result:\n\n{answer.strip()}"
        return f"The result is {answer.strip()}."
    if answer.strip() and answer.strip() not in text:
        return f"{text}\n\nResult: {answer.strip()}"
    return text
