# syntax=docker/dockerfile:1
# GOV.UK Frontend's JavaScript at the version package-lock.json pins, and its styles compiled with
# the service's own fonts.
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY app/web/styles ./app/web/styles
RUN npm run --silent build:styles

# The dependencies at the versions and hashes requirements/lock.txt names, then the service itself,
# into a virtual environment that the final stage copies whole.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements/lock.txt ./requirements/
RUN /opt/venv/bin/python -m pip install --no-cache-dir --require-hashes -r requirements/lock.txt
COPY pyproject.toml README.md ./
COPY app ./app
# Each language's messages compiled (the .po files are the source, never the built .mo files).
RUN /opt/venv/bin/pybabel compile --directory app/web/locale --domain messages \
 && /opt/venv/bin/python -m pip install --no-cache-dir --no-deps --no-build-isolation .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ENVIRONMENT=production \
    GOVUK_FRONTEND_DIR=/srv/govuk-frontend WEB_STYLES_DIR=/srv/styles PATH=/opt/venv/bin:$PATH
RUN groupadd --system app && useradd --system --gid app --home-dir /srv --shell /usr/sbin/nologin app \
 && mkdir -p /srv/data && chown app:app /srv/data
WORKDIR /srv
# The embedded database lives in a folder the service's user owns; production sets DATABASE_URL
# to PostgreSQL instead.
ENV DATABASE_URL=sqlite+aiosqlite:////srv/data/referral_exchange.db
VOLUME ["/srv/data"]
COPY --from=build /opt/venv /opt/venv
COPY --from=assets /assets/node_modules/govuk-frontend/dist/govuk ./govuk-frontend
COPY --from=assets /assets/build/styles ./styles
COPY migrations ./migrations
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# Migrations first (idempotent; replicas starting together take turns on a PostgreSQL advisory
# lock), then the server; DATABASE_URL, JWT_SECRET, SECRETS_KEY and AUDIT_SIGNING_KEY come from the
# environment.
CMD ["sh", "-c", "referral-exchange migrate && exec referral-exchange serve --host 0.0.0.0 --port 8000"]
