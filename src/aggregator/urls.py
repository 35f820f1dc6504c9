"""What URL handling shares: the shape of a plain absolute http(s) URL."""

from __future__ import annotations

import re

# An absolute http(s) URL that ``urljoin`` and ``urlunparse(urlparse(…))`` give back unchanged: lower-case
# scheme, no query, fragment, parameters or dot segments to normalise. Most URLs of a big feed are
# such; recognising them spares parsing each one twice.
PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9_~%!$&'()*+,=:@/-]*)?")
