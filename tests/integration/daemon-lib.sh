# SPDX-License-Identifier: Apache-2.0
# Loopback servers for daemon.sh and bench/refresh-load.sh: a throwaway CA, nginx
# over HTTPS and docker-registry (distribution) with TLS and htpasswd auth.
# Source it with $T set to the test's private directory; every server is started
# here, recorded by pid in DL_PIDS and stopped by dl_stop_all (call it from the
# caller's EXIT trap).

DL_PIDS=()
DL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
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

# dl_make_client_cert NAME [CA]: $T/pki/NAME.{pem,key}, a client certificate
# (extendedKeyUsage clientAuth) from the test CA, or from CA ($T/pki/CA.{pem,key}).
dl_make_client_cert() {
	local d=$T/pki ca=${2:-ca}
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=sigward node $1" \
		-keyout "$d/$1.key" -out "$d/$1.csr" 2>/dev/null || return 1
	printf 'basicConstraints = CA:FALSE\nextendedKeyUsage = clientAuth\n' > "$d/$1.ext"
	openssl x509 -req -in "$d/$1.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" -CAcreateserial -days 2 \
		-extfile "$d/$1.ext" -out "$d/$1.pem" 2>/dev/null || return 1
	chmod 644 "$d/$1.key"
}

# dl_start_nginx ROOT [WORKERS] [PORT]: nginx over HTTPS serving ROOT on PORT or
# a free port.
# Sets NGINX_PORT, NGINX_PID, NGINX_LOG (one line per request:
# "METHOD URI STATUS BODY_BYTES"). /slow/ is served at 256 bytes/s.
dl_start_nginx() {
	local root=$1 workers=${2:-1} d=$T/nginx mtls=
	# With DL_NGINX_MTLS=1, /mtls/ answers 403 unless the client presented a
	# certificate from the test CA.
	[ "${DL_NGINX_MTLS:-}" = 1 ] && mtls="		ssl_client_certificate $T/pki/ca.pem;
		ssl_verify_client optional;
		location /mtls/ { if (\$ssl_client_verify != SUCCESS) { return 403; } }"
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
$mtls
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

# dl_start_registry USER PASSWORD [token]: docker-registry with TLS from the test
# CA, storage under $T/registry (or $T/registry-token), and htpasswd (Basic) auth,
# or with "token" the Bearer token flow: tests/integration/token-server.py is the
# realm (sets TOK_PORT, TOK_LOG). Sets REG_PORT, REG_PID, REG_LOG (the registry's
# log, with an access log line per request).
dl_start_registry() {
	local d=$T/registry auth
	[ "${3:-}" = token ] && d=$T/registry-token
	mkdir -p "$d/data"
	REG_PORT=$(dl_free_port)
	REG_LOG=$d/registry.log
	REG_DATA=$d/data
	if [ "${3:-}" = token ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sigward test token issuer $$" \
			-keyout "$d/token.key" -out "$d/token.pem" 2>/dev/null || return 1
		TOK_LOG=$d/token.log
		rm -f "$d/token.port"
		"$DL_PY" "$DL_HERE/token-server.py" "$T/pki/server.pem" "$T/pki/server.key" "$d/token.key" \
			"$d/token.pem" "$1:$2" sigward-test-registry "$d/token.port" 2>>"$TOK_LOG" &
		DL_PIDS+=("$!")
		local end=$((SECONDS + 20))
		until [ -s "$d/token.port" ]; do
			[ $SECONDS -lt $end ] || return 1
			sleep 0.1
		done
		TOK_PORT=$(cat "$d/token.port")
		auth="  token:
    realm: https://127.0.0.1:$TOK_PORT/token
    service: sigward-test-registry
    issuer: sigward-test-issuer
    rootcertbundle: $d/token.pem"
	else
		htpasswd -Bbn "$1" "$2" > "$d/htpasswd" 2>/dev/null || return 1
		auth="  htpasswd:
    realm: sigward-test
    path: $d/htpasswd"
	fi
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
$auth
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
