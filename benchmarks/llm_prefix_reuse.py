"""KV-cache prefix reuse of the in-process llama.cpp backend over a growing conversation.

Runs an 8-turn CodeAct-style conversation (system prompt, task, then model turns each
followed by an observation) through one ``LlamaCppLLM`` and prints, per turn, the prompt
size, how much of it came from the KV cache, the prompt-processing time and the generation
speed. Then: turn 1 vs turn 8 prompt time and their ratio (target: at most 1.5x), and, for
reference, turn 8's prompt evaluated cold (cache reset).

    python benchmarks/llm_prefix_reuse.py                       # qwen2.5-coder-1.5b
    python benchmarks/llm_prefix_reuse.py --model smollm2-135m --threads 2
"""

from __future__ import annotations

import argparse
import sys
import time

from codeact.llm.llamacpp import LlamaCppLLM
from codeact.llm.models import resolve_model

SYSTEM = """You are a helpful assistant that solves tasks by writing Python code.
The environment is a persistent Jupyter kernel: variables, imports and functions you define
stay available in later turns. To run code, write it inside <execute>...</execute>; you will
then see its output as an observation. Use print() to see values. Write small steps, check
the results, and fix errors you see. When you know the final answer, write it inside
<solution>...</solution>. Tools already defined in the kernel:

def read_file(path: str) -> str:
    \"\"\"Return the text content of the file at `path` inside the workspace.\"\"\"

def write_file(path: str, content: str) -> None:
    \"\"\"Write `content` to the file at `path` inside the workspace.\"\"\"

def search(query: str, k: int = 5) -> list[str]:
    \"\"\"Return up to `k` short text snippets relevant to `query`.\"\"\"
"""

TASK = ("What is the sum of the squares of the first 100 prime numbers? Work step by step: "
        "first write a prime test, then check it, then compute the sum.")


def observation(turn: int) -> str:
    return (f"Observation:\n[stdout]\nstep {turn} ok: intermediate value {turn * 1234}\n"
            f"[{8 - turn} turns left] Continue with the next small step.")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-coder-1.5b",
                    help="registry name or .gguf path (pulled on first use)")
    ap.add_argument("--turns", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-ctx", type=int, default=8192)
    ap.add_argument("--max-tokens", type=int, default=48, help="generated tokens per turn")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold turn-N reference")
    args = ap.parse_args()

    path = resolve_model(args.model)
    t0 = time.perf_counter()
    llm = LlamaCppLLM(path, n_ctx=args.n_ctx, n_threads=args.threads)
    print(f"model {path.name}, load {time.perf_counter() - t0:.2f}s, n_ctx {llm.n_ctx}, "
          f"threads {args.threads}")

    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": TASK}]
    stops = ["</execute>", "</solution>"]
    rows = []
    gen_tokens = 0
    gen_seconds = 0.0
    print(f"{'turn':>4} {'prompt':>7} {'cached':>7} {'evaluated':>9} {'prompt_s':>9} "
          f"{'gen':>4} {'gen tok/s':>9}")
    for turn in range(1, args.turns + 1):
        c = llm.complete(messages, stop=stops, max_tokens=args.max_tokens)
        gen_s = max(c.total_seconds - c.prompt_seconds, 1e-9)
        # the first generated token is sampled inside prompt_seconds
        tps = (c.completion_tokens - 1) / gen_s if c.completion_tokens > 1 else 0.0
        gen_tokens += max(0, c.completion_tokens - 1)
        gen_seconds += gen_s
        rows.append(c)
        print(f"{turn:>4} {c.prompt_tokens:>7} {c.cached_prompt_tokens:>7} "
              f"{c.prompt_tokens - c.cached_prompt_tokens:>9} {c.prompt_seconds:>9.3f} "
              f"{c.completion_tokens:>4} {tps:>9.1f}")
        reply = c.text + (c.stop_sequence or "") if c.stop_sequence in stops else c.text
        messages += [{"role": "assistant", "content": reply},
                     {"role": "user", "content": observation(turn)}]

    first, last = rows[0], rows[-1]
    ratio = last.prompt_seconds / first.prompt_seconds
    print()
    print(f"turn 1 prompt: {first.prompt_tokens} tokens evaluated in {first.prompt_seconds:.3f}s")
    print(f"turn {len(rows)} prompt: {last.prompt_tokens} tokens, "
          f"{last.cached_prompt_tokens} from the KV cache, "
          f"{last.prompt_tokens - last.cached_prompt_tokens} evaluated in "
          f"{last.prompt_seconds:.3f}s")
    print(f"ratio turn {len(rows)} / turn 1 prompt time: {ratio:.2f}x "
          f"(target <= 1.5x: {'PASS' if ratio <= 1.5 else 'FAIL'})")
    print(f"generation: {gen_tokens / gen_seconds:.1f} tokens/s "
          f"({gen_tokens} tokens over {len(rows)} turns)")
    if not args.no_cold:
        llm.reset()
        cold = llm.complete(messages[:-2], stop=stops, max_tokens=1)
        print(f"reference: turn {len(rows)} prompt cold (cache reset): {cold.prompt_tokens} "
              f"tokens in {cold.prompt_seconds:.3f}s "
              f"({cold.prompt_tokens / cold.prompt_seconds:.0f} prompt tokens/s)")
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
