# syntax=docker/dockerfile:1
# Autonomic: build the wheel (the same `pip wheel` the test suite installs into a fresh venv
# and drives, tests/deploy/test_wheel.py), install it with its dependencies into a venv, copy
# the venv into a slim runtime with no compilers, run as a non-root user.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY app ./app
COPY playbooks ./playbooks
RUN python -m venv /opt/autonomic \
 && /opt/autonomic/bin/pip install --no-cache-dir --upgrade "pip>=24" \
 && /opt/autonomic/bin/pip wheel --no-cache-dir --no-deps -w /wheels . \
 && /opt/autonomic/bin/pip install --no-cache-dir /wheels/autonomic-*.whl

FROM python:3.11-slim
LABEL org.opencontainers.image.title="autonomic" \
      org.opencontainers.image.description="Alert-response automation for AI/LLM applications"
# The playbooks directory belongs to root and is read-only for the service: code the service
# runs must not be writable by it (the chart mounts the ConfigMap there read-only as well).
RUN groupadd --gid 10001 autonomic \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin autonomic \
 && install -d -m 0755 -o root -g root /etc/autonomic /etc/autonomic/playbooks
COPY --from=build /opt/autonomic /opt/autonomic
ENV PATH="/opt/autonomic/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AUTONOMIC_HOST=0.0.0.0 \
    AUTONOMIC_PORT=8080
# Mount custom playbooks here (read-only) and set AUTONOMIC_PLAYBOOK_DIRS=/etc/autonomic/playbooks.
VOLUME ["/etc/autonomic/playbooks"]
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["autonomic"]
CMD ["serve"]
