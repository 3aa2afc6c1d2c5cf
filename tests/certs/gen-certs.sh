#!/bin/bash
# gen-certs.sh OUTDIR - (re)generate the TLS test material for pam_tgotp.
#
# Produces in OUTDIR (created if needed, files overwritten):
#   ca.pem/ca.key                 "pam_tgotp test CA"
#   server.pem/server.key         signed by the CA, SAN localhost + 127.0.0.1, 10 years
#   other-ca.pem/other-ca.key     a second, unrelated CA
#   other-server.pem/.key         like server.pem but signed by other-ca
#   wronghost.pem/.key            signed by the CA, SAN DNS:gateway.example.com only
#   expired.pem/.key              signed by the CA, right SANs, valid 2020-01-01..2020-01-02
#   ldap.pem/ldap.key             signed by the CA, SAN localhost + 127.0.0.1 (for slapd)
#   etcd-server.pem/.key          signed by the CA, SAN localhost + 127.0.0.1, for server and
#                                 client use (etcd's members, and its JSON gateway, dial each
#                                 other with it)
#   etcd-client.pem/.key          signed by the CA, a client certificate with an empty subject
#                                 name: etcd refuses a CN on its JSON gateway
#   other-client.pem/.key         the same, signed by other-ca
# Keys are EC P-256, mode 0600. Quiet on success. Needs only the openssl CLI (3.0+).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

OUT=$1
GOOD_SAN="DNS:localhost,IP:127.0.0.1"
DAYS=3650

mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
umask 077

# A minimal request config, so the result depends neither on the system
# openssl.cnf nor on OPENSSL_CONF from the environment.
printf '[req]\ndistinguished_name = dn\n[dn]\n' >"$WORK/req.cnf"
REQ=(openssl req -config "$WORK/req.cnf")

# new_key NAME: fresh EC P-256 private key NAME.key in OUT.
new_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$OUT/$1.key" 2>/dev/null
    chmod 600 "$OUT/$1.key"
}

# make_ca NAME "COMMON NAME": self-signed CA certificate NAME.pem.
make_ca() {
    new_key "$1"
    "${REQ[@]}" -new -x509 -key "$OUT/$1.key" -out "$OUT/$1.pem" \
        -days "$DAYS" -sha256 -subj "/O=pam_tgotp tests/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash"
}

# leaf_ext FILE SAN [EKU]: extension section "leaf" for a TLS server certificate
# (or for EKU, e.g. clientAuth; SAN may then be empty).
leaf_ext() {
    cat >"$1" <<EOF
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = ${3:-serverAuth}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    [ -z "$2" ] || echo "subjectAltName = $2" >>"$1"
}

# make_leaf NAME CA SAN CN [EKU]: NAME.pem signed by CA, valid DAYS from now;
# an empty CN leaves the subject O= alone.
make_leaf() {
    local name=$1 ca=$2 san=$3 cn=$4 subj="/O=pam_tgotp tests"
    [ -z "$cn" ] || subj="$subj/CN=$cn"
    new_key "$name"
    "${REQ[@]}" -new -key "$OUT/$name.key" -subj "$subj" -out "$WORK/$name.csr"
    leaf_ext "$WORK/$name.ext" "$san" "${5:-}"
    openssl x509 -req -in "$WORK/$name.csr" -CA "$OUT/$ca.pem" \
        -CAkey "$OUT/$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
        -days "$DAYS" -sha256 -extfile "$WORK/$name.ext" -extensions leaf \
        -out "$OUT/$name.pem" 2>/dev/null
}

# make_expired NAME CA SAN CN: NAME.pem valid only 2020-01-01..2020-01-02.
# "openssl x509 -req" in OpenSSL 3.0 cannot set notBefore, "openssl ca" can.
make_expired() {
    local name=$1 ca=$2 san=$3 cn=$4 db="$WORK/cadb"
    new_key "$name"
    "${REQ[@]}" -new -key "$OUT/$name.key" -subj "/O=pam_tgotp tests/CN=$cn" \
        -out "$WORK/$name.csr"
    mkdir -p "$db"
    : >"$db/index.txt"
    openssl rand -hex 16 >"$db/serial"
    cat >"$WORK/ca.cnf" <<EOF
[ca]
default_ca = testca
[testca]
database = $db/index.txt
serial = $db/serial
new_certs_dir = $db
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
organizationName = optional
commonName = supplied
EOF
    leaf_ext "$WORK/$name.ext" "$san"
    openssl ca -batch -notext -config "$WORK/ca.cnf" \
        -cert "$OUT/$ca.pem" -keyfile "$OUT/$ca.key" \
        -startdate 20200101000000Z -enddate 20200102000000Z \
        -extfile "$WORK/$name.ext" -extensions leaf \
        -in "$WORK/$name.csr" -out "$OUT/$name.pem" 2>/dev/null
}

make_ca ca "pam_tgotp test CA"
make_ca other-ca "unrelated test CA"
make_leaf server ca "$GOOD_SAN" localhost
make_leaf other-server other-ca "$GOOD_SAN" localhost
make_leaf wronghost ca "DNS:gateway.example.com" gateway.example.com
make_expired expired ca "$GOOD_SAN" localhost
make_leaf ldap ca "$GOOD_SAN" localhost
make_leaf etcd-server ca "$GOOD_SAN" localhost serverAuth,clientAuth
make_leaf etcd-client ca "" "" clientAuth
make_leaf other-client other-ca "" "" clientAuth

chmod 644 "$OUT"/*.pem
