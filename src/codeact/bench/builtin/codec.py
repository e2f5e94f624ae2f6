"""Domain ``codec``: a string codec toolkit (Caesar, base64, run-length, reversal)."""

from __future__ import annotations

import base64
import re

from codeact.bench.builtin._common import Toolbox, tasks_for, unique_best
from codeact.bench.task import Task


def caesar_shift(text: str, shift: int) -> str:
    """Shift every ASCII letter by `shift` places in the alphabet (wrapping around,
    keeping case); other characters are unchanged. A negative shift decodes."""
    out = []
    for ch in text:
        if "a" <= ch <= "z":
            out.append(chr((ord(ch) - 97 + shift) % 26 + 97))
        elif "A" <= ch <= "Z":
            out.append(chr((ord(ch) - 65 + shift) % 26 + 65))
        else:
            out.append(ch)
    return "".join(out)


def reverse_text(text: str) -> str:
    """The text reversed, character by character."""
    return text[::-1]


def b64_encode(text: str) -> str:
    """Base64-encode a UTF-8 string."""
    return base64.b64encode(text.encode()).decode()


def b64_decode(data: str) -> str:
    """Decode a base64 string to UTF-8 text."""
    return base64.b64decode(data.strip().encode()).decode()


def rle_encode(text: str) -> str:
    """Run-length encode: "aaabcc" becomes "3a1b2c"."""
    return "".join(f"{len(m.group(0))}{m.group(1)}" for m in re.finditer(r"(.)\1*", text, re.S))


def rle_decode(data: str) -> str:
    """Decode run-length encoding: "3a1b2c" becomes "aaabcc"."""
    return "".join(ch * int(n) for n, ch in re.findall(r"(\d+)(\D)", data))


def count_char(text: str, char: str) -> int:
    """How many times `char` occurs in `text` (case-insensitive)."""
    return text.lower().count(char.lower())


TOOLS = [caesar_shift, reverse_text, b64_encode, b64_decode, rle_encode, rle_decode, count_char]

# Inputs are produced with the tools themselves, so the tasks stay consistent if they change.
_SECRET = caesar_shift("meet me at the old mill at noon", 3)
_SECRET_B64 = b64_encode(caesar_shift("the secret word is lantern", 11))
_MSGS = [b64_encode(w) for w in ("harbor", "level", "signal", "rotor", "beacon")]
_RLES = ["3a2b5c", "1x4y1z", "10q2r", "2m2n2o2p"]
_DOUBLE = b64_encode(b64_encode("codeact"))
_ROT_WORD = caesar_shift("observatory", 17)
_RLE_SHIFTED = rle_encode(caesar_shift("balloon", 2))
_SECRETS = [b64_encode(m) for m in ("green eggs", "seventeen geese", "never ever")]


def _find_shift(t: Toolbox) -> int:
    cipher = caesar_shift("the vault opens at dawn", 19)
    return next(k for k in range(1, 26) if "vault" in t.caesar_shift(cipher, -k))


def _palindrome(t: Toolbox) -> list[str]:
    words = [t.b64_decode(m) for m in _MSGS]
    return [w for w in words if w == t.reverse_text(w)]


def _most_e(t: Toolbox) -> str:
    decoded = [t.b64_decode(s) for s in _SECRETS]
    return unique_best(decoded, key=lambda s: t.count_char(s, "e"), largest=True)


SPECS = [
    ("caesar-encode", "Encode the text 'attack at dawn' with a Caesar shift of 5.",
     lambda t: t.caesar_shift("attack at dawn", 5)),
    ("caesar-decode", f"The text '{_SECRET}' was encoded with a Caesar shift of 3. Decode it.",
     lambda t: t.caesar_shift(_SECRET, -3)),
    ("b64-decode", "Decode this base64 string: 'Y29kZSBpcyBhY3Rpb24='.",
     lambda t: t.b64_decode("Y29kZSBpcyBhY3Rpb24=")),
    ("b64-then-caesar", f"The message '{_SECRET_B64}' is base64 of a text that was then "
     "Caesar-shifted by 11 before encoding. Recover the original text (decode base64, then "
     "undo the shift).", lambda t: t.caesar_shift(t.b64_decode(_SECRET_B64), -11)),
    ("rle", "Run-length encode the string 'aaabbbbccdddddde'.",
     lambda t: t.rle_encode("aaabbbbccdddddde")),
    ("reverse-b64", "Reverse the string 'stressed desserts' and base64-encode the result. "
     "Give the base64 string.", lambda t: t.b64_encode(t.reverse_text("stressed desserts"))),
    ("palindromes", f"Decode each of these base64 strings: {_MSGS}. Which decoded words are "
     "palindromes? Answer with the list of palindromes in the original order.", _palindrome),
    ("find-shift", "The text '" + caesar_shift("the vault opens at dawn", 19) + "' was "
     "Caesar-shifted by an unknown amount k between 1 and 25. Find k (decoding with -k "
     "gives readable English containing the word 'vault').", _find_shift),
    ("count-vowels", "Decode the base64 string 'cXVldWVpbmcgdGhlb3J5IGlzIHVzZWZ1bA==' and "
     "count how many vowels (a, e, i, o, u) the decoded text contains.",
     lambda t: sum(t.count_char(t.b64_decode("cXVldWVpbmcgdGhlb3J5IGlzIHVzZWZ1bA=="), v)
                   for v in "aeiou")),
    ("rle-total-length", f"Decode each of these run-length encoded strings: {_RLES}. What is "
     "the total length of the decoded strings?",
     lambda t: sum(len(t.rle_decode(s)) for s in _RLES)),
    ("progressive-shift", "Caesar-shift each word of 'alpha beta gamma delta' by its "
     "position in the sentence (first word by 1, second by 2, ...) and join the results "
     "with single spaces.",
     lambda t: " ".join(t.caesar_shift(w, i + 1)
                        for i, w in enumerate("alpha beta gamma delta".split()))),
    ("double-b64", f"The string '{_DOUBLE}' was base64-encoded twice. Decode it fully.",
     lambda t: t.b64_decode(t.b64_decode(_DOUBLE))),
    ("rle-then-caesar", f"Decode the run-length string '{_RLE_SHIFTED}' and then undo a "
     "Caesar shift of 2 on the result.",
     lambda t: t.caesar_shift(t.rle_decode(_RLE_SHIFTED), -2)),
    ("rot-word", f"The word '{_ROT_WORD}' was Caesar-shifted by 17. Decode it and answer "
     "with the decoded word reversed.",
     lambda t: t.reverse_text(t.caesar_shift(_ROT_WORD, -17))),
    ("most-e", f"Decode these base64 strings: {_SECRETS}. Which decoded text contains the "
     "letter 'e' most often? Answer with that decoded text.", _most_e),
    ("b64-length", "Base64-encode each of the words 'a', 'ab', 'abc', 'abcd' and 'abcde'. "
     "Answer with the list of lengths of the encoded strings.",
     lambda t: [len(t.b64_encode(w)) for w in ["a", "ab", "abc", "abcd", "abcde"]]),
]


def load() -> list[Task]:
    return tasks_for("codec", TOOLS, SPECS)
