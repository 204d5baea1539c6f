#!/usr/bin/env bash
# Test PKI for the oic_auth integration tests.
#
#   t/mock/gen-certs.sh DIR
#
# Creates, if absent (idempotent; safe to run from several test processes at
# once: it takes a lock on DIR/.lock):
#   ca.pem ca.key                 test CA
#   server.pem server.key         CN 127.0.0.1, SAN IP:127.0.0.1 DNS:localhost, signed by ca
#   other-ca.pem other-ca.key     an unrelated CA (for the wrong-CA test)
#   assertion.key assertion.pem   RSA 2048 (PKCS#8, unencrypted) + self-signed cert:
#                                 what a gateway registers in IAM (alias "oic-gw")
#   unknown-assertion.key/.pem    a second pair IAM does not know
#   encrypted.key                 encrypted PKCS#8 RSA key, passphrase "x"
#   ec.key ec.pem                 EC P-256 private key (PKCS#8) + self-signed cert
# Validity: 10 years. All files are world-readable (test material only).
set -euo pipefail

DIR=${1:?usage: gen-certs.sh DIR}
DAYS=3650
mkdir -p "$DIR"
cd "$DIR"

exec 9>".lock"
flock 9

ossl() { openssl "$@" 2>/dev/null || { echo "gen-certs: openssl $* failed" >&2; openssl "$@" >&2; exit 1; }; }
serial() { echo "0x$(openssl rand -hex 8)"; }
have() { local f; for f in "$@"; do [ -s "$f" ] || return 1; done; }
tmp=$(mktemp -d "$DIR/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ca_new=0
gen_ca() { # name cn
    ossl req -x509 -newkey rsa:2048 -nodes -sha256 -days $DAYS \
        -keyout "$tmp/$1.key" -out "$tmp/$1.pem" -subj "/O=oic_auth tests/CN=$2" \
        -set_serial "$(serial)" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash"
    mv "$tmp/$1.key" "$1.key"; mv "$tmp/$1.pem" "$1.pem"
}

if ! have ca.pem ca.key; then gen_ca ca "oic_auth test CA"; ca_new=1; fi
have other-ca.pem other-ca.key || gen_ca other-ca "oic_auth other CA"

if [ $ca_new = 1 ] || ! have server.pem server.key; then
    ossl req -new -newkey rsa:2048 -nodes -sha256 -keyout "$tmp/server.key" \
        -out "$tmp/server.csr" -subj "/O=oic_auth tests/CN=127.0.0.1"
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" "authorityKeyIdentifier=keyid" \
        "subjectKeyIdentifier=hash" > "$tmp/server.ext"
    ossl x509 -req -sha256 -in "$tmp/server.csr" -CA ca.pem -CAkey ca.key \
        -set_serial "$(serial)" -days $DAYS -extfile "$tmp/server.ext" -out "$tmp/server.pem"
    mv "$tmp/server.key" server.key; mv "$tmp/server.pem" server.pem
fi

gen_pair() { # name cn algorithm-options...
    local name=$1 cn=$2; shift 2
    if ! have "$name.key"; then
        ossl genpkey "$@" -out "$tmp/$name.key"
        mv "$tmp/$name.key" "$name.key"
        rm -f "$name.pem"
    fi
    if ! have "$name.pem"; then
        ossl req -new -x509 -sha256 -key "$name.key" -days $DAYS -set_serial "$(serial)" \
            -subj "/O=oic_auth tests/CN=$cn" -out "$tmp/$name.pem"
        mv "$tmp/$name.pem" "$name.pem"
    fi
}
gen_pair assertion oic-gw -algorithm RSA -pkeyopt rsa_keygen_bits:2048
gen_pair unknown-assertion unknown-gw -algorithm RSA -pkeyopt rsa_keygen_bits:2048
gen_pair ec "oic_auth ec" -algorithm EC -pkeyopt ec_paramgen_curve:P-256

if ! have encrypted.key; then
    ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-256-cbc -pass pass:x \
        -out "$tmp/encrypted.key"
    mv "$tmp/encrypted.key" encrypted.key
fi

chmod 644 ./*.pem ./*.key
exit 0
