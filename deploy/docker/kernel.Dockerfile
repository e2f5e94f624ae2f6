# The kernel tier: Jupyter Enterprise Gateway whose only kernelspec is codeact's. Each
# kernel is a local process of the gateway pod, started by `codeact kernelspec`'s launcher
# inside bubblewrap (no network, read-only system, private /tmp, rlimits; a cgroup per
# kernel where the pod may write one). Build from the repository root:
#   docker build -f deploy/docker/kernel.Dockerfile -t codeact-kernel .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

# bubblewrap: the sandbox; util-linux: unshare (used when the launcher runs as root)
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap util-linux \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements/ requirements/
COPY deploy/docker/gateway-lock.txt deploy/docker/
COPY src/ src/
# Three environments: codeact (the launcher), the kernels' own (data stack, pinned by
# src/codeact/runtime/kernel_env.lock) and Enterprise Gateway's (gateway-lock.txt: its
# pins do not meet codeact's lock; the gateway only runs the kernelspec's argv, so they
# need not). tests/test_deploy.py runs this gateway, from the same lock, in CI.
RUN python -m venv /opt/codeact \
    && /opt/codeact/bin/pip install -c requirements/lock.txt . \
    && /opt/codeact/bin/codeact kernel-env create --path /opt/codeact/kernel-env \
    && python -m venv /opt/gateway \
    && /opt/gateway/bin/pip install -r deploy/docker/gateway-lock.txt \
    && /opt/codeact/bin/codeact kernelspec install --name codeact --prefix /opt/gateway \
        --kernel-env /opt/codeact/kernel-env --sandbox bwrap --memory-mb 4096 \
        --max-processes 256 --cpu-seconds 3600 --cgroups auto \
    && rm -rf /opt/gateway/share/jupyter/kernels/python3 \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin codeact

# Kernels' run directories and workspaces (removed when each kernel exits).
ENV CODEACT_RUN_DIR=/tmp \
    EG_DEFAULT_KERNEL_NAME=codeact \
    EG_ALLOWED_KERNELS=codeact \
    EG_LIST_KERNELS=True \
    PATH=/opt/gateway/bin:$PATH

USER 10001
WORKDIR /home/codeact
EXPOSE 8888
# EG_AUTH_TOKEN (from a Secret) is the token every request must carry.
CMD ["jupyter", "enterprisegateway", "--ip=0.0.0.0", "--port=8888", "--port_retries=0"]
