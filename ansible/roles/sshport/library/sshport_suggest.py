#!/usr/bin/python3
# -*- coding: utf-8 -*-
# A thin wrapper around `sshport suggest --json`: the result's "changed" is
# sshport's, failure is sshport's exit code, the diff is sshport's unified
# diff (shown with --diff), and in check mode nothing is written (no --apply).

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r'''
module: sshport_suggest
short_description: Move sshd's port with sshport (one phase)
description:
  - Runs C(sshport suggest --json), with C(--apply) unless in check mode.
  - C(changed) is sshport's C("changed"); a non-zero exit fails the task with sshport's message.
options:
  bin: {description: sshport binary on the host, type: str, default: sshport}
  config: {description: sshd's main configuration, type: str, default: /etc/ssh/sshd_config}
  phase:
    description:
      - C(keep-old) (phase 1, sshd listens on the old and the new port),
      - C(finish) (phase 2, keep the safe port and drop the old ones; C(--finish) where sshport has it, else a plain suggest, which does the same once a safe port is configured),
      - C(move) (one step).
    type: str
    choices: [keep-old, finish, move]
    default: keep-old
  port: {description: the port to move to (sshport refuses an unsafe one), type: int}
  range: {description: search only LOW-HIGH, type: str}
  sshd: {description: sshd binary for validation, type: str}
'''

RETURN = r'''
port: {description: the port chosen, type: int}
ports: {description: the ports sshd listens on after the change, type: list}
previous: {description: the ports before, type: list}
report: {description: sshport's whole JSON report, type: dict}
'''


def main():
    module = AnsibleModule(
        argument_spec=dict(
            bin=dict(type='str', default='sshport'),
            config=dict(type='str', default='/etc/ssh/sshd_config'),
            phase=dict(type='str', default='keep-old', choices=['keep-old', 'finish', 'move']),
            port=dict(type='int'),
            range=dict(type='str'),
            sshd=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    cmd = [p['bin'], 'suggest', '--json', '--config', p['config']]
    if p['phase'] == 'keep-old':
        cmd.append('--keep-old')
    elif p['phase'] == 'finish':
        rc, out, err = module.run_command([p['bin'], 'suggest', '--help'])
        if rc == 0 and '--finish' in out:
            cmd.append('--finish')
    if p['port']:
        cmd += ['--port', str(p['port'])]
    if p['range']:
        cmd += ['--range', p['range']]
    if p['sshd']:
        cmd += ['--sshd', p['sshd']]
    if not module.check_mode:
        cmd.append('--apply')

    rc, out, err = module.run_command(cmd)
    try:
        report = json.loads(out)
    except ValueError:
        report = None
    if rc != 0:
        msg = err.strip() or 'sshport exited %d' % rc
        module.fail_json(msg=msg, rc=rc, cmd=cmd, stdout=out, stderr=err, report=report)
    if not isinstance(report, dict) or 'changed' not in report:
        module.fail_json(msg='sshport printed no JSON report', rc=rc, cmd=cmd, stdout=out, stderr=err)

    result = dict(
        changed=bool(report['changed']),
        port=report['port'],
        ports=report['ports'],
        previous=report['previous'],
        report=report,
        cmd=cmd,
        rc=rc,
        stderr=err,
    )
    if module._diff and report.get('diff'):
        result['diff'] = dict(prepared=report['diff'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
