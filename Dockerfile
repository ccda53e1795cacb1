# The service with PostgreSQL and S3 support, at the locked versions. Used by compose.yaml.
FROM python:3.11-slim
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src
RUN pip install --no-cache-dir -c requirements.lock '.[postgres,s3]' \
    && useradd --system --home-dir /var/lib/capi capi \
    && mkdir -p /var/lib/capi/keys && chown -R capi /var/lib/capi
USER capi
ENV CAPI_DATA_DIR=/var/lib/capi
ENTRYPOINT ["capi-packages"]
CMD ["serve"]
