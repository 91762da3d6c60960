-- Posts one request body, with its headers, again and again.
-- WRK_BODY names a file: a JSON object of headers on the first line, the raw body after it
-- (bench/common.py writes it from a bundled fixture). Plain string matching keeps the
-- script free of a JSON library: header names and values are simple strings.
local file = assert(io.open(os.getenv("WRK_BODY"), "rb"))
local head = file:read("*l")
local body = file:read("*a")
file:close()

wrk.method = "POST"
wrk.body = body
for name, value in head:gmatch('"([^"]+)":%s*"([^"]*)"') do
  wrk.headers[name] = value
end
wrk.headers["Content-Length"] = nil
