"""Lean replacement for pyinstaller-hooks-contrib's torch hook (hooks here take precedence).

The contrib hook collects every torch submodule (~3,000, with the compiler stacks, tests and
their sympy/networkx imports) and every data file. decoras-gui only runs inference of two
small networks on the CPU or a CUDA GPU, so the modules `import torch` and our code reach by
static analysis are enough; the compiler stacks are excluded in the spec.
"""

from PyInstaller.utils.hooks import collect_dynamic_libs

# torch reads the source of some of its own functions at import (TorchScript overloads),
# so keep the .py files beside the compiled modules, as the contrib hook does.
module_collection_mode = "pyz+py"
warn_on_missing_hiddenimports = False

# libtorch_global_deps.so is loaded with ctypes from torch/lib by torch/__init__.py, so the
# dependency analysis cannot see it; leave out the test libraries torch ships in torch/lib.
binaries = [
    (src, dest) for src, dest in collect_dynamic_libs("torch", search_patterns=["*.so", "*.so.*"])
    if not any(word in src.rsplit("/", 1)[-1] for word in ("_test", "backend_with_compiler", "aoti_custom_ops"))
]

# torch/__init__.py checks that the shared-memory manager is there (torch.multiprocessing)
binaries += [(src, "torch/bin") for src, _ in collect_dynamic_libs("torch", search_patterns=["torch_shm_manager"])]

# Linux: do not symlink torch/lib/*.so into the top folder (torch looks its libraries up in torch/lib).
bindepend_symlink_suppression = ["**/torch/lib/*.so*"]
