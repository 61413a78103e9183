# SPDX-License-Identifier: Apache-2.0
# Loopback servers for daemon.sh and bench/refresh-load.sh: a throwaway CA, nginx
# over HTTPS and docker-registry (distribution) with TLS and htpasswd auth.
# Source it with $T set to the test's private directory; every server is started
# here, recorded by pid in DL_PIDS and stopped by dl_stop_all (call it from the
# caller's EXIT trap).

DL_PIDS=()
# The system interpreter: a version manager's shim can take seconds to start.
DL_PY=$(command -v /usr/bin/python3 || command -v python3)

# A TCP port on 127.0.0.1 that nothing listens on right now.
dl_free_port() {
	"$DL_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait up to $2 seconds (default 20) until 127.0.0.1:$1 accepts connections.
dl_wait_port() {
	local port=$1 end=$((SECONDS + ${2:-20}))
	while [ $SECONDS -lt $end ]; do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# $T/pki/ca.pem (the CA nodes trust), $T/pki/server.{pem,key} for 127.0.0.1.
dl_make_pki() {
	local d=$T/pki
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=sigward test CA $$" -keyout "$d/ca.key" -out "$d/ca.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
		-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null || return 1
	printf 'subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n' > "$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null || return 1
	chmod 644 "$d/server.key"
}

# dl_start_nginx ROOT [WORKERS] [PORT]: nginx over HTTPS serving ROOT on PORT or
# a free port.
# Sets NGINX_PORT, NGINX_PID, NGINX_LOG (one line per request:
# "METHOD URI STATUS BODY_BYTES"). /slow/ is served at 256 bytes/s.
dl_start_nginx() {
	local root=$1 workers=${2:-1} d=$T/nginx
	mkdir -p "$d/tmp"
	NGINX_PORT=${3:-$(dl_free_port)}
	NGINX_LOG=$d/access.log
	touch "$NGINX_LOG"
	cat > "$d/nginx.conf" <<EOF
worker_processes $workers;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 4096; }
http {
	types { application/octet-stream sig; }
	default_type application/octet-stream;
	log_format sw '\$request_method \$uri \$status \$body_bytes_sent';
	access_log $NGINX_LOG sw;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	keepalive_requests 100000;
	server {
		listen 127.0.0.1:$NGINX_PORT ssl;
		ssl_certificate $T/pki/server.pem;
		ssl_certificate_key $T/pki/server.key;
		root $root;
		location /slow/ { limit_rate 256; }
	}
}
EOF
	nginx -p "$d" -c "$d/nginx.conf" -g 'daemon off;' 2>>"$d/error.log" &
	NGINX_PID=$!
	DL_PIDS+=("$NGINX_PID")
	dl_wait_port "$NGINX_PORT" 20
}

dl_stop_nginx() {
	[ -n "${NGINX_PID:-}" ] || return 0
	kill -QUIT "$NGINX_PID" 2>/dev/null
	local end=$((SECONDS + 20))
	while kill -0 "$NGINX_PID" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
	kill -KILL "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=
}

# dl_start_registry USER PASSWORD: docker-registry with TLS from the test CA and
# htpasswd (Basic) auth, storage under $T/registry. Sets REG_PORT, REG_PID,
# REG_LOG (the registry's log, with an access log line per request).
dl_start_registry() {
	local d=$T/registry
	mkdir -p "$d/data"
	REG_PORT=$(dl_free_port)
	REG_LOG=$d/registry.log
	REG_DATA=$d/data
	htpasswd -Bbn "$1" "$2" > "$d/htpasswd" 2>/dev/null || return 1
	cat > "$d/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $d/data
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$REG_PORT
  secret: sigward-test-$$
  tls:
    certificate: $T/pki/server.pem
    key: $T/pki/server.key
auth:
  htpasswd:
    realm: sigward-test
    path: $d/htpasswd
EOF
	docker-registry serve "$d/config.yml" >>"$REG_LOG" 2>&1 &
	REG_PID=$!
	DL_PIDS+=("$REG_PID")
	dl_wait_port "$REG_PORT" 30
}

dl_stop_all() {
	local p
	for p in "${DL_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${DL_PIDS[@]}"; do
		local end=$((SECONDS + 10))
		while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	DL_PIDS=()
}
