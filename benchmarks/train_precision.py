"""Training throughput of one base model on this CPU: fp32 against bf16 autocast.

Why: `codeact train` trains in fp32 on CPU. Whether a bigger student (for instance
qwen2.5-coder-0.5b) fits the time budget depends on whether bf16 autocast is faster here
(CPUs with AMX/AVX512-BF16 may gain, others lose). This script times a few optimiser
steps of LoRA (or full) fine-tuning on random token sequences, so the choice is measured.

    python benchmarks/train_precision.py --base qwen2.5-coder-0.5b --steps 6 --length 512

Prints tokens/s per precision and the ratio. The first step of each precision is a warm-up
and not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import time


def main() -> None:
    import torch

    from codeact.train.base import load_model, load_tokenizer, resolve_base

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="qwen2.5-coder-0.5b")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--full", action="store_true", help="full fine-tuning, not LoRA")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--precisions", default="fp32,bf16")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    source = resolve_base(args.base, progress=False)
    tokenizer, _ = load_tokenizer(source)
    start = time.perf_counter()
    model = load_model(source, torch.float32)
    print(f"loaded {args.base} in {time.perf_counter() - start:.0f} s, "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters, "
          f"{torch.get_num_threads()} threads")
    model.config.use_cache = False
    if not args.full:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05,
                                                 target_modules="all-linear",
                                                 task_type="CAUSAL_LM"))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-5)
    generator = torch.Generator().manual_seed(0)
    vocab = len(tokenizer)
    rates: dict[str, float] = {}
    for precision in args.precisions.split(","):
        autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16"
                    else contextlib.nullcontext())
        timed = 0.0
        for step in range(args.steps + 1):
            ids = torch.randint(0, vocab, (1, args.length), generator=generator)
            begin = time.perf_counter()
            with autocast:
                loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if step:  # step 0 warms up
                timed += time.perf_counter() - begin
        rates[precision] = args.steps * args.length / timed
        print(f"{precision}: {rates[precision]:.1f} tokens/s "
              f"({timed / args.steps:.1f} s per step of {args.length} tokens)")
    if "fp32" in rates and "bf16" in rates:
        print(f"bf16 / fp32: {rates['bf16'] / rates['fp32']:.2f}x")
    for precision, rate in rates.items():
        print(f"{precision}: {1e6 / rate / 3600:.1f} h per 1M tokens")


if __name__ == "__main__":
    main()
