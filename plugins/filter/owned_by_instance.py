# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``owned_by_instance``: label manifests with the use of the role that builds them (ownership.with_instance)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import ownership, validation


def owned_by_instance(manifests, instance, variable="instance"):
    try:
        validation.label_value(str(variable), instance)
    except validation.ValidationError as err:
        raise AnsibleFilterError(str(err))
    return ownership.with_instance(list(manifests or []), instance)


class FilterModule(object):
    def filters(self):
        return {"owned_by_instance": owned_by_instance}
