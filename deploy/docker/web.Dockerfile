# The web tier: `codeact serve` (chat app + REST API), stateless. Conversations live in
# PostgreSQL (--db), kernels on Enterprise Gateway (CODEACT_RUNTIME), so any replica can
# serve any request. Build from the repository root:
#   docker build -f deploy/docker/web.Dockerfile -t codeact-web .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements/ requirements/
COPY src/ src/
# the versions CI tested (the lock), the PostgreSQL driver and the gateway client
RUN pip install -c requirements/lock.txt ".[server-postgres,gateway]" \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin codeact

USER 10001
WORKDIR /home/codeact
EXPOSE 8000
ENTRYPOINT ["codeact"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
