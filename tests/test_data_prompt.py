"""The prompt name and hash recorded in each record."""

import hashlib

from codeact.actions import get_format
from codeact.data.prompt import from_messages, prompt_info


def test_prompt_info_hashes_the_text_used() -> None:
    text = get_format("code").system_prompt([])
    info = prompt_info("code", text)
    assert info == {"prompt_name": "code",
                    "prompt_sha256": hashlib.sha256(text.encode()).hexdigest()}
    assert prompt_info("code", text + " ") != info
    msgs = [{"role": "system", "content": text}, {"role": "user", "content": "hi"}]
    assert from_messages("code", msgs) == info
