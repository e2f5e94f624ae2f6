"""Run by a candidate kernel interpreter: where it lives and what it has installed.

Prints one JSON object (see ``codeact.runtime.kernel_env``). Standard library only.
"""

import importlib.metadata as md
import importlib.util
import json
import re
import sys
import sysconfig


def main() -> None:
    names, required = {}, set()
    for d in md.distributions():
        n = d.metadata["Name"]
        if not n:
            continue
        names[re.sub(r"[-_.]+", "-", n).lower()] = n
        for r in d.requires or ():
            if "extra ==" in r:
                continue
            m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", r)
            if m:
                required.add(re.sub(r"[-_.]+", "-", m.group(1)).lower())
    imports: dict[str, list[str]] = {}  # distribution -> the modules it installs
    for module, dists in md.packages_distributions().items():
        if module.startswith("_") or not module.isidentifier():
            continue
        for dist in dists:
            imports.setdefault(re.sub(r"[-_.]+", "-", dist).lower(), []).append(module)
    infra = {"pip", "setuptools", "wheel", "ipykernel"}
    leaves = sorted(v for k, v in names.items() if k not in required and k not in infra)
    print(json.dumps({
        "executable": sys.executable,
        "prefix": sys.prefix, "base_prefix": sys.base_prefix,
        "exec_prefix": sys.exec_prefix, "base_exec_prefix": sys.base_exec_prefix,
        "paths": [sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib",
                                                          "platlib")],
        "version": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "ipykernel": importlib.util.find_spec("ipykernel") is not None,
        "leaves": leaves,
        "imports": {k: sorted(v) for k, v in imports.items()},
    }))


if __name__ == "__main__":
    main()
