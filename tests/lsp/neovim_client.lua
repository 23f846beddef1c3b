-- Run by neovim_test.py: Neovim (headless, no configuration) starts `floc lsp` for the file it
-- opened, the way docs/editors.md says, and prints what the editor receives, one fact a line.
local function run()
local floc = vim.env.FLOC
vim.bo.filetype = "flo"
local id = vim.lsp.start_client({ name = "floc", cmd = { floc, "lsp" }, root_dir = vim.fn.getcwd() })
vim.lsp.buf_attach_client(0, id)
local function say(s) io.stdout:write(s .. "\n") end
vim.wait(10000, function() return #vim.diagnostic.get(0) > 0 end, 20)
for _, d in ipairs(vim.diagnostic.get(0)) do
  say(string.format("diagnostic %d:%d %s", d.lnum + 1, d.col + 1, (d.message:gsub("\n.*", ""))))
end
local client = vim.lsp.get_client_by_id(id)
if not client then error("floc lsp did not start") end
local doc = { textDocument = vim.lsp.util.make_text_document_params() }
local function at(line, character)
  return { textDocument = doc.textDocument, position = { line = line, character = character } }
end
local r = client.request_sync("textDocument/documentSymbol", doc, 5000, 0)
local function walk(symbols, depth)
  for _, s in ipairs(symbols or {}) do
    say("symbol " .. string.rep("  ", depth) .. s.name)
    walk(s.children, depth + 1)
  end
end
walk(r and r.result, 0)
-- `go cool if ...` on line 7 (0-based 6): the frame name at column 10 (0-based 9)
local d = client.request_sync("textDocument/definition", at(6, 10), 5000, 0)
local loc = d and d.result and (d.result[1] or d.result)
if loc and loc.range then say(string.format("definition %d:%d", loc.range.start.line + 1, loc.range.start.character + 1)) end
local h = client.request_sync("textDocument/hover", at(6, 10), 5000, 0)
if h and h.result and h.result.contents then
  local c = h.result.contents
  say("hover " .. ((type(c) == "table" and (c.value or c[1])) or tostring(c)):gsub("\n", " "))
end
local f = client.request_sync("textDocument/formatting",
  { textDocument = doc.textDocument, options = { tabSize = 2, insertSpaces = true } }, 5000, 0)
if f and f.result then
  vim.lsp.util.apply_text_edits(f.result, 0, "utf-16")
  say("formatted " .. table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "|"))
end
end

local ok, err = pcall(run)
if not ok then
  io.stdout:write("error " .. tostring(err) .. "\n")
  vim.cmd("cquit 1")
end
vim.cmd("qa!")
