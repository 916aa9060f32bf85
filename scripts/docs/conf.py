"""Sphinx configuration of the collection's HTML docs (``make docs``).

antsibull-docs writes the module, plugin and role pages as RST; the README and
the role READMEs are Markdown, read by MyST. No intersphinx: the build machine
has no internet, and the pages link to docs.ansible.com by URL instead.
"""

project = "k8s_monitoring.prometheus"
copyright = "k8s_monitoring.prometheus contributors"  # pylint: disable=redefined-builtin
html_short_title = project
html_title = project

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3

pygments_style = "ansible"
highlight_language = "YAML+Jinja"
html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_modindex = False
html_use_index = False
html_copy_source = False

# Links to docs.ansible.com labels (kubernetes.core's modules, "common return
# values") resolve through intersphinx inventories fetched from the internet; offline
# they render as plain text instead of failing the build. References inside this
# collection are checked by `antsibull-docs lint-collection-docs` in `make test`.
suppress_warnings = ["ref.ref"]
