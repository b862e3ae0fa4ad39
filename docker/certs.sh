#!/bin/sh
# Test CA + broker keystore (SAN localhost, 127.0.0.1), as the harness makes them. Runs once.
set -eu
D=/etc/kafka/tls
[ -f "$D/truststore.p12" ] && exit 0
K="keytool -storetype PKCS12 -storepass changeit"
$K -genkeypair -alias ca -dname CN=kafkax-test-ca -keyalg RSA -keysize 2048 -validity 3650 -ext bc:c -keystore $D/ca.p12
$K -exportcert -rfc -alias ca -keystore $D/ca.p12 -file $D/ca.pem
$K -genkeypair -alias broker -dname CN=localhost -keyalg RSA -keysize 2048 -validity 3650 -keystore $D/broker.p12
$K -certreq -alias broker -keystore $D/broker.p12 -file $D/broker.csr
$K -gencert -alias ca -keystore $D/ca.p12 -infile $D/broker.csr -outfile $D/broker.pem -rfc -validity 3650 \
   -ext SAN=DNS:localhost,IP:127.0.0.1 -ext KU=digitalSignature,keyEncipherment -ext EKU=serverAuth,clientAuth
$K -importcert -noprompt -alias ca -file $D/ca.pem -keystore $D/broker.p12
$K -importcert -noprompt -alias broker -file $D/broker.pem -keystore $D/broker.p12
$K -importcert -noprompt -alias ca -file $D/ca.pem -keystore $D/truststore.p12
chmod 644 $D/*
