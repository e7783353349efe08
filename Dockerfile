# exitus container image: `docker build -t exitus .`
# The AWS CDK app (infra/) runs it with an explicit command, `exitus serve` or `exitus migrate up`, so there is no
# ENTRYPOINT. Configuration comes from the environment only (see .envrc.example). tests/deploy/test_dockerfile.py
# checks this file and runs its build and install steps outside the repository.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: the project's wheel, installed with its dependencies into a self-contained virtualenv
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# A venv without pip or setuptools: the builder's pip installs into it, and neither ships in the runtime image.
RUN python -m venv --without-pip /opt/exitus
# The dependencies first, exactly the locked versions, hash-checked (`make lock` writes the file): this layer is
# rebuilt only when the lock changes.
COPY requirements/runtime.lock ./requirements/
RUN pip --python /opt/exitus/bin/python install --require-hashes -r requirements/runtime.lock
# Only what the wheel is built from: the package, and the spec, queries and migrations it carries as package data.
COPY pyproject.toml README.md ./
COPY exitus ./exitus
COPY openapi ./openapi
COPY queries ./queries
COPY migrations ./migrations
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && pip --python /opt/exitus/bin/python install --no-deps /wheels/exitus-*.whl
# The RDS CA bundle, for sslmode=verify-full (PGSSLMODE/PGSSLROOTCERT in infra/exitus_infra/exitus_stack.py). From AWS
# over HTTPS at build time, unpinned because AWS adds CAs to it; inside the venv, so the runtime's one COPY takes it.
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /opt/exitus/share/rds-global-bundle.pem

# ---- runtime: the virtualenv alone, run as an unprivileged user
FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin exitus
COPY --from=builder /opt/exitus /opt/exitus
# The venv first on PATH: `exitus` and `python3` resolve there (the CDK task definitions rely on both names).
ENV PATH=/opt/exitus/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ADDR=:8080
WORKDIR /srv
# The only writable path when the root filesystem is read-only (the ECS task definitions mount a volume here): ECS
# copies the image's /tmp, world-writable and sticky, into that volume, so the unprivileged user can write to it.
VOLUME ["/tmp"]
# Numeric, so orchestrators that insist on a non-root user (runAsNonRoot) can verify it.
USER 10001:10001
EXPOSE 8080
# Stdlib only (slim images have no curl); follows ADDR's port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; port = os.environ.get('ADDR', ':8080').rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
# uvicorn drains in-flight requests on SIGTERM (exitus serve: timeout_graceful_shutdown=20), then exits 0.
STOPSIGNAL SIGTERM
CMD ["exitus", "serve"]
