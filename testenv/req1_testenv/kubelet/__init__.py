"""Process nodes for the local cluster: a kubelet stand-in that runs pods as host processes.

``agent`` is the node agent, ``pod``/``container`` its workers, ``launch`` the in-namespace starter,
``images`` the table of image stand-ins, ``faults`` the on-demand faults, ``__main__`` the CLI
(``python -m req1_testenv.kubelet logs NAMESPACE/POD``).
"""
