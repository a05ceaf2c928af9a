-- Headless Neovim (0.7+) with its built-in LSP client attached to
-- `dendrite lsp`: opens the file given in DENDRITE_FILE and waits for a
-- diagnostic with the code in DENDRITE_CODE. Exits 0 when it arrives.
local file = os.getenv("DENDRITE_FILE")
local want = os.getenv("DENDRITE_CODE")
local bin = os.getenv("DENDRITE_BIN")
local root = os.getenv("DENDRITE_ROOT")

vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({ name = "dendrite", cmd = { bin, "lsp" }, root_dir = root })
vim.lsp.buf_attach_client(buf, id)

local found = vim.wait(20000, function()
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == want then
      io.stdout:write(string.format("%s at line %d: %s\n", d.code, d.lnum + 1, d.message))
      return true
    end
  end
  return false
end, 50)

vim.lsp.stop_client(id)
vim.cmd(found and "qall!" or "cquit! 1")
