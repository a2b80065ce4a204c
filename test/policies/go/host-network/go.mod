module castellan.dev/test-policies/host-network

go 1.26
