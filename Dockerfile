# Dockerfile -- the lambdakit image for the lab (docker-compose.yaml)
# Stage 1 builds with the same Debian bookworm -dev packages as scripts/deps.sh and
# the same `make` as a native build; stage 2 is a slim bookworm with only the
# runtime libraries, the programs, the datasets and a non-root user.
#
#   docker build -t lambdakit .
#   docker run --rm lambdakit lambda-batch --help

FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc libc6-dev make pkg-config \
      librdkafka-dev libcjson-dev libmicrohttpd-dev liblmdb-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY shared/ shared/
COPY batch/ batch/
COPY speed/ speed/
COPY serving/ serving/
COPY tools/ tools/
RUN make -j"$(nproc)" all

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 libcjson1 libmicrohttpd12 liblmdb0 zlib1g curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 lambdakit \
 && useradd --system --uid 10001 --gid lambdakit --home-dir /opt/lambdakit \
      --no-create-home --shell /usr/sbin/nologin lambdakit
COPY --from=build /src/build/lambda-batch /src/build/lambda-speed \
     /src/build/lambda-serving /src/build/lambda-produce \
     /src/build/lambda-timeshift /usr/local/bin/
COPY datasets/ /opt/lambdakit/datasets/
# var/ is where the pipelines' relative paths point (store, archive, rejects);
# compose mounts the lab-data volume here, which starts with this ownership.
# The folders of the master dataset are created here so a new volume starts with them,
# and so is repository/, where deploy/docker-compose.scale.yaml mounts the shared
# repository of batch versions.
RUN mkdir -p /opt/lambdakit/var/orders/archive /opt/lambdakit/var/orders/incoming \
      /opt/lambdakit/var/rides/archive /opt/lambdakit/var/iot/archive \
      /opt/lambdakit/var/crypto/archive /opt/lambdakit/var/orders/history \
      /opt/lambdakit/var/rides/history /opt/lambdakit/var/iot/history \
      /opt/lambdakit/var/crypto/history /opt/lambdakit/repository \
 && chown -R lambdakit:lambdakit /opt/lambdakit/var /opt/lambdakit/repository
WORKDIR /opt/lambdakit
USER lambdakit
ENV LAMBDA_CONFIG=datasets/orders.json
EXPOSE 8080
CMD ["lambda-serving", "--listen", "0.0.0.0:8080"]
