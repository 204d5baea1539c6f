# Sourced by t/*.sh: start_mock runs the mock IAM + OIC (t/mock/idp.js) on
# ephemeral loopback ports and sets mock_pid, iam and oic (the HTTP ports of
# the token endpoint and of the backend). Needs $top and $work.
start_mock() {
    node "$top/t/mock/idp.js" --certs "$top/build/certs" >"$work/ports" 2>"$work/mock.log" &
    mock_pid=$!
    for _ in $(seq 100); do [ -s "$work/ports" ] && break; sleep 0.1; done
    iam=$(sed -E 's/.*"iam":([0-9]+).*/\1/' "$work/ports")
    oic=$(sed -E 's/.*"oic":([0-9]+).*/\1/' "$work/ports")
}
