// istio-ca-client asks a CA for a workload certificate the way pilot-agent does, with Istio's own code:
// the Citadel CA client (security/pkg/nodeagent/caclient/providers/citadel) over TLS, the Kubernetes
// service-account token plugin for the `authorization: Bearer` credential, and the SDS secret manager
// (security/pkg/nodeagent/cache), which generates the key and CSR with Istio's pki/util and calls
// CreateCertificate. weft's interop suite (interop-tests/istio/ca.test.ts) runs it against weft's CA.
//
// It prints one JSON object on stdout: the certificate chain, private key and root as the secret manager
// returns them, or {"error": "..."} (exit status 1) when the CA refuses.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"istio.io/istio/pkg/security"
	"istio.io/istio/security/pkg/credentialfetcher"
	"istio.io/istio/security/pkg/nodeagent/cache"
	"istio.io/istio/security/pkg/nodeagent/caclient/providers/citadel"
)

type result struct {
	CertificateChain string `json:"certificateChain,omitempty"`
	PrivateKey       string `json:"privateKey,omitempty"`
	RootCert         string `json:"rootCert,omitempty"`
	ExpireTime       string `json:"expireTime,omitempty"`
	Error            string `json:"error,omitempty"`
}

func main() {
	caAddr := flag.String("ca-addr", "", "CA address host:port (pilot-agent's CA_ADDR)")
	caSAN := flag.String("ca-san", "", "name to verify in the CA's serving certificate (pilot-agent's CA_SNI / CAEndpointSAN)")
	rootCert := flag.String("root-cert", "", "PEM file of roots that verify the CA's serving certificate")
	token := flag.String("token", "", "file holding the service-account JWT (empty: no token)")
	cert := flag.String("cert", "", "client certificate chain PEM for mTLS (renewal with an existing SVID)")
	key := flag.String("key", "", "client private key PEM for mTLS")
	trustDomain := flag.String("trust-domain", "cluster.local", "trust domain for the CSR's SPIFFE ID")
	ns := flag.String("namespace", "default", "workload namespace for the CSR's SPIFFE ID")
	sa := flag.String("sa", "default", "service account for the CSR's SPIFFE ID")
	ttl := flag.Duration("ttl", 24*time.Hour, "requested certificate lifetime (validity_duration)")
	ecc := flag.Bool("ecdsa", false, "ECDSA P-256 key (ECC_SIGNATURE_ALGORITHM=ECDSA); default RSA 2048 as pilot-agent")
	flag.Parse()

	out := json.NewEncoder(os.Stdout)
	fail := func(err error) {
		_ = out.Encode(result{Error: err.Error()})
		os.Exit(1)
	}
	fetcher, err := credentialfetcher.NewCredFetcher(security.JWT, *trustDomain, *token, "")
	if err != nil {
		fail(err)
	}
	opts := &security.Options{
		CAEndpoint:         *caAddr,
		CAEndpointSAN:      *caSAN,
		ClusterID:          "Kubernetes",
		TrustDomain:        *trustDomain,
		WorkloadNamespace:  *ns,
		ServiceAccount:     *sa,
		SecretTTL:          *ttl,
		WorkloadRSAKeySize: 2048,
		ECCCurve:           "P256",
		CredFetcher:        fetcher,
	}
	if *ecc {
		opts.ECCSigAlg = "ECDSA"
	}
	client, err := citadel.NewCitadelClient(opts, &citadel.TLSOptions{RootCert: *rootCert, Cert: *cert, Key: *key})
	if err != nil {
		fail(err)
	}
	sm, err := cache.NewSecretManagerClient(client, opts)
	if err != nil {
		fail(err)
	}
	defer sm.Close()
	item, err := sm.GenerateSecret(security.WorkloadKeyCertResourceName)
	if err != nil {
		fail(fmt.Errorf("GenerateSecret: %w", err))
	}
	_ = out.Encode(result{
		CertificateChain: string(item.CertificateChain),
		PrivateKey:       string(item.PrivateKey),
		RootCert:         string(item.RootCert),
		ExpireTime:       item.ExpireTime.UTC().Format(time.RFC3339),
	})
}
