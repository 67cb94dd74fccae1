#!/usr/bin/env bash
# Starts nginx on 127.0.0.1 with a freshly generated certificate chain (root CA -> server),
# serving the files of an image directory over HTTPS. Its own prefix, config and logs under WORK;
# the system's nginx configuration is never read or touched.
#
#   benchmarks/server.sh start WORK IMAGE_DIR   # prints the port; writes WORK/ca.pem, WORK/nginx.pid
#   benchmarks/server.sh stop WORK
set -euo pipefail

cmd=${1:?start|stop}
work=${2:?work directory}

ensure_nginx() {
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >&2
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 20000 ))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port" >&2; return 1
}

make_chain() {
  local d=$1
  [ -f "$d/ca.pem" ] && return
  # a root CA and a server certificate for 127.0.0.1 and localhost (SAN), both ECDSA P-256
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=OtaFlux benchmark root" -keyout "$d/ca.key" -out "$d/ca.pem" \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:false\nextendedKeyUsage=serverAuth\n' > "$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 7 \
    -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
}

case "$cmd" in
  start)
    images=${3:?image directory}
    ensure_nginx
    mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
    make_chain "$work"
    port=$(free_port)
    chmod 755 "$work" "$images"
    cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/logs/error.log warn;
user root;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp;
  fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp;
  scgi_temp_path $work/nginx/tmp;
  default_type application/octet-stream;
  sendfile on;
  server {
    listen 127.0.0.1:$port ssl;
    server_name 127.0.0.1 localhost;
    ssl_certificate $work/server.pem;
    ssl_certificate_key $work/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $images;
  }
}
CONF
    "$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log"
    for _ in $(seq 1 50); do
      (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && { echo "$port"; exit 0; }
      sleep 0.1
    done
    echo "nginx did not start; see $work/nginx/logs/error.log" >&2; exit 1
    ;;
  stop)
    if [ -f "$work/nginx.pid" ]; then
      kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
      rm -f "$work/nginx.pid"
    fi
    ;;
  *) echo "usage: $0 start WORK IMAGE_DIR | stop WORK" >&2; exit 2 ;;
esac
