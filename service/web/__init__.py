"""What the server-rendered sites share: the client portal (`service.portal`) and the operator's
console (`service.console`).

Sessions held on the server (`sessions`), their cookies, forms and redirects (`forms`), page
rendering with the headers that keep pages private (`render`), and the client's own views that
both sites show (`client_pages`, with `burnup` and `names`): the portal to the client, the console
to the operator who views a client's portal as it reads. Each site names what differs in a `Site`:
its cookies and paths, and which tokens may sign in.
"""
