# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``owned_secret``: a Secret carrying the collection's ownership labels (ownership.secret)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import ownership


def owned_secret(data, name, namespace, component):
    return ownership.secret(str(name), str(namespace), dict((str(k), str(v)) for k, v in (data or {}).items()),
                            str(component))


class FilterModule(object):
    def filters(self):
        return {"owned_secret": owned_secret}
