-- wrk script: sign in with the demo administrator's password (argon2id verify, a token
-- made and an audit entry written per request).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"username":"admin","password":"%s","label":"bench"}', os.getenv("ADMIN_PW") or "")

done = function(summary, latency, requests)
  io.write(string.format("non-2xx or errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
