# ruff: noqa: E501 (a table reads best one route per line)
"""What every route of the tracking server needs: the one table the authorisation check reads.

A line is ``METHOD PATH  RULE``. A route missing here is refused to everyone (and tests/security fails on it).
A rule is one of:

- ``public``: anyone, signed in or not (health check, login page, static files);
- ``signed-in``: any signed-in principal (their own account, the workspaces they belong to);
- ``admin``: system administrators only (accounts, all workspaces, the whole audit log);
- ``;``-separated checks ``TARGET ACTION``, every one of which must pass. ACTION is read, write, delete, manage or
  own (domain/accounts.py says which role allows which). TARGET is ``workspace`` (the request's workspace:
  header ``X-Ridgeline-Workspace``, else the caller's default) or ``KIND:PLACE`` for objects named in the request:
  KIND is workspace-name, project, run, source (a model source URI naming a run or a logged model), dataset-version,
  model-server or logged-model, PLACE is ``path.NAME``, ``query.NAME`` or ``body.NAME`` (a string or a list of
  them), ``path.NAME/0`` takes the first segment of a path parameter and ``body.NAME[].FIELD`` the FIELD of every
  object in the list NAME. A ``?`` after KIND makes the check apply only when the place holds a
  value. An object's role comes from its own workspace, so ids of another workspace answer 404 whatever the
  request's workspace is.
"""

from __future__ import annotations

PERMISSIONS = """
GET    /healthz                                                   public
GET    /favicon.ico                                               public
GET    /static/{build}/{name:path}                                public
GET    /docs                                                      signed-in
GET    /docs/init.js                                              public
GET    /docs/assets/{name}                                        public
GET    /openapi.json                                              signed-in
GET    /login                                                     public
GET    /signup                                                    public
GET    /invitation                                                public
GET    /account                                                   signed-in
GET    /admin                                                     admin
GET    /admin/audit                                               workspace manage
GET    /                                                          workspace read
GET    /projects/{project_id}                                     project:path.project_id read
GET    /runs/{run_id}                                             run:path.run_id read
GET    /compare                                                   run?:query.runs read
GET    /datasets                                                  workspace read
GET    /datasets/{key:path}                                       workspace read
GET    /models                                                    workspace read
GET    /models/{name}                                             workspace read
GET    /monitors                                                  workspace read
GET    /monitors/{name:path}                                      workspace read
GET    /monitors/{name:path}/distribution.json                    workspace read

POST   /api/v1/session                                            public
GET    /api/v1/session                                            public
DELETE /api/v1/session                                            public
POST   /api/v1/signup                                             public
GET    /api/v1/invitations/{token}                                public
POST   /api/v1/invitations/accept                                 public
GET    /api/v1/account                                            signed-in
PATCH  /api/v1/account                                            signed-in
POST   /api/v1/account/password                                   signed-in
GET    /api/v1/account/tokens                                     signed-in
POST   /api/v1/account/tokens                                     signed-in
DELETE /api/v1/account/tokens/{token_id}                          signed-in
GET    /api/v1/users                                              admin
POST   /api/v1/users                                              admin
GET    /api/v1/users/{name}                                       admin
PATCH  /api/v1/users/{name}                                       admin
POST   /api/v1/users/{name}/tokens                                admin
GET    /api/v1/tokens                                             admin
DELETE /api/v1/tokens/{token_id}                                  admin
GET    /api/v1/invitations                                        admin
POST   /api/v1/invitations                                        admin
DELETE /api/v1/invitations/{invitation_id}                        admin
GET    /api/v1/workspaces                                         signed-in
POST   /api/v1/workspaces                                         admin
DELETE /api/v1/workspaces/{workspace}                             admin
GET    /api/v1/workspaces/{workspace}/members                     workspace-name:path.workspace read
PUT    /api/v1/workspaces/{workspace}/members/{user}              workspace-name:path.workspace manage
DELETE /api/v1/workspaces/{workspace}/members/{user}              workspace-name:path.workspace manage
GET    /api/v1/projects/{project_id}/members                      project:path.project_id read
PUT    /api/v1/projects/{project_id}/members/{user}               project:path.project_id manage
DELETE /api/v1/projects/{project_id}/members/{user}               project:path.project_id manage
GET    /api/v1/audit                                              workspace manage

GET    /api/v1/projects                                           workspace read
POST   /api/v1/projects                                           workspace write
GET    /api/v1/projects/by-name                                   workspace read
GET    /api/v1/projects/{project_id}                              project:path.project_id read
PATCH  /api/v1/projects/{project_id}                              project:path.project_id write
DELETE /api/v1/projects/{project_id}                              project:path.project_id delete
POST   /api/v1/projects/{project_id}/restore                      project:path.project_id delete
GET    /api/v1/projects/{project_id}/keys                         project:path.project_id read
GET    /api/v1/projects/{project_id}/retention                    project:path.project_id read
PUT    /api/v1/projects/{project_id}/retention                    project:path.project_id manage
DELETE /api/v1/projects/{project_id}/retention                    project:path.project_id manage
POST   /api/v1/projects/{project_id}/retention/apply              project:path.project_id delete
GET    /api/v1/projects/{project_id}/storage                      project:path.project_id read
GET    /api/v1/resolve                                            workspace read

POST   /api/v1/runs                                               workspace write; project?:body.project_id write; run?:body.run_id write; run?:body.parent_run_id read
POST   /api/v1/runs/search                                        workspace read; project?:body.project_ids read
POST   /api/v1/runs/count                                         workspace read; project?:body.project_ids read
POST   /api/v1/runs/histories                                     run:body.run_ids read
POST   /api/v1/runs/delete                                        run:body.run_ids write
POST   /api/v1/runs/restore                                       run:body.run_ids write
POST   /api/v1/runs/move                                          run:body.run_ids write; project:body.project_id write
GET    /api/v1/runs/{run_id}                                      run:path.run_id read
PATCH  /api/v1/runs/{run_id}                                      run:path.run_id write
DELETE /api/v1/runs/{run_id}                                      run:path.run_id write
DELETE /api/v1/runs/{run_id}/tags                                 run:path.run_id write
POST   /api/v1/runs/{run_id}/batches                              run:path.run_id write
POST   /api/v1/runs/{run_id}/finish                               run:path.run_id write
POST   /api/v1/runs/{run_id}/resume                               run:path.run_id write
POST   /api/v1/runs/{run_id}/restore                              run:path.run_id write
GET    /api/v1/runs/{run_id}/metrics                              run:path.run_id read
GET    /api/v1/runs/{run_id}/metrics/history                      run:path.run_id read
GET    /api/v1/runs/{run_id}/metrics/histories                    run:path.run_id read
GET    /api/v1/runs/{run_id}/storage                              run:path.run_id read
GET    /api/v1/runs/{run_id}/lineage                              run:path.run_id read
POST   /api/v1/runs/{run_id}/datasets                             run:path.run_id write
GET    /api/v1/runs/{run_id}/artifacts                            run:path.run_id read
GET    /api/v1/runs/{run_id}/artifacts/{path:path}                run:path.run_id read
PUT    /api/v1/runs/{run_id}/artifacts/{path:path}                run:path.run_id write
DELETE /api/v1/runs/{run_id}/artifacts/{path:path}                run:path.run_id write
GET    /api/v1/runs/{run_id}/artifacts-preview/{path:path}        run:path.run_id read

GET    /api/v1/datasets                                           workspace read
GET    /api/v1/datasets/by-name                                   workspace read
GET    /api/v1/datasets/resolve                                   workspace read
POST   /api/v1/datasets/ready                                     workspace write
GET    /api/v1/dataset-versions/{version_id}                      dataset-version:path.version_id read
GET    /api/v1/dataset-versions/{version_id}/runs                 dataset-version:path.version_id read
GET    /api/v1/dataset-versions/{version_id}/model-versions       dataset-version:path.version_id read
POST   /api/v1/dataset-versions/{version_id}/ready                dataset-version:path.version_id write

GET    /api/v1/models                                             workspace read
POST   /api/v1/models                                             workspace write
GET    /api/v1/model-versions                                     workspace read; run?:query.run_id read
GET    /api/v1/models/{name}                                      workspace read
PATCH  /api/v1/models/{name}                                      workspace write
DELETE /api/v1/models/{name}                                      workspace delete
PUT    /api/v1/models/{name}/tags/{key:path}                      workspace write
DELETE /api/v1/models/{name}/tags/{key:path}                      workspace write
GET    /api/v1/models/{name}/versions                             workspace read
POST   /api/v1/models/{name}/versions                             workspace write; source?:body.source read; run?:body.run_id read
GET    /api/v1/models/{name}/versions/{version}                   workspace read
PATCH  /api/v1/models/{name}/versions/{version}                   workspace write
DELETE /api/v1/models/{name}/versions/{version}                   workspace delete
PUT    /api/v1/models/{name}/versions/{version}/tags/{key:path}   workspace write
DELETE /api/v1/models/{name}/versions/{version}/tags/{key:path}   workspace write
GET    /api/v1/models/{name}/versions/{version}/lineage           workspace read
GET    /api/v1/models/{name}/versions/{version}/evaluations       workspace read
GET    /api/v1/models/{name}/aliases/{alias}                      workspace read
PUT    /api/v1/models/{name}/aliases/{alias}                      workspace write
DELETE /api/v1/models/{name}/aliases/{alias}                      workspace write
GET    /api/v1/models/{name}/alias-history                        workspace read
POST   /api/v1/models/{name}/evaluations                          workspace write; dataset-version?:body.dataset_version_id read
GET    /api/v1/models/{name}/evaluations/{evaluation_id}          workspace read
POST   /api/v1/models/{name}/promote                              workspace write
POST   /api/v1/models/{name}/rollback                             workspace write

GET    /api/v1/model-servers                                      workspace read
PUT    /api/v1/model-servers/{server_id}                          workspace write; model-server?:path.server_id write
DELETE /api/v1/model-servers/{server_id}                          model-server:path.server_id write
POST   /api/v1/model-servers/{server_id}/predictions              model-server:path.server_id write

GET    /api/v1/monitors                                           workspace read
POST   /api/v1/monitors                                           workspace write
POST   /api/v1/monitors/ingest                                    admin
GET    /api/v1/monitors/{name}                                    workspace read
PATCH  /api/v1/monitors/{name}                                    workspace write
DELETE /api/v1/monitors/{name}                                    workspace delete
PUT    /api/v1/monitors/{name}/reference                          workspace write
POST   /api/v1/monitors/{name}/predictions                        workspace write
POST   /api/v1/monitors/{name}/actuals                            workspace write
POST   /api/v1/monitors/{name}/evaluate                           workspace write
GET    /api/v1/monitors/{name}/report                             workspace read
GET    /api/v1/monitors/{name}/distribution                       workspace read
GET    /api/v1/monitors/{name}/periods                            workspace read
GET    /api/v1/monitors/{name}/alerts                             workspace read

GET    /api/3.0/mlflow/server-info                                signed-in
GET    /api/2.0/{path:path}                                       signed-in
POST   /api/2.0/{path:path}                                       signed-in
PUT    /api/2.0/{path:path}                                       signed-in
PATCH  /api/2.0/{path:path}                                       signed-in
DELETE /api/2.0/{path:path}                                       signed-in
POST   /api/2.0/mlflow/experiments/create                         workspace write
GET    /api/2.0/mlflow/experiments/get                            project:query.experiment_id read
GET    /api/2.0/mlflow/experiments/get-by-name                    workspace read
GET    /api/2.0/mlflow/experiments/search                         workspace read
POST   /api/2.0/mlflow/experiments/search                         workspace read
POST   /api/2.0/mlflow/experiments/update                         project:body.experiment_id write
POST   /api/2.0/mlflow/experiments/delete                         project:body.experiment_id delete
POST   /api/2.0/mlflow/experiments/restore                        project:body.experiment_id delete
POST   /api/2.0/mlflow/experiments/set-experiment-tag             project:body.experiment_id write
POST   /api/2.0/mlflow/experiments/delete-experiment-tag          project:body.experiment_id write
POST   /api/2.0/mlflow/runs/create                                project:body.experiment_id write
GET    /api/2.0/mlflow/runs/get                                   run:query.run_id read
POST   /api/2.0/mlflow/runs/search                                workspace read; project?:body.experiment_ids read
POST   /api/2.0/mlflow/runs/update                                run:body.run_id write
POST   /api/2.0/mlflow/runs/delete                                run:body.run_id write
POST   /api/2.0/mlflow/runs/restore                               run:body.run_id write
POST   /api/2.0/mlflow/runs/log-metric                            run:body.run_id write
POST   /api/2.0/mlflow/runs/log-parameter                         run:body.run_id write
POST   /api/2.0/mlflow/runs/log-batch                             run:body.run_id write
POST   /api/2.0/mlflow/runs/log-inputs                            run:body.run_id write
POST   /api/2.0/mlflow/runs/outputs                               run:body.run_id write; logged-model?:body.models[].model_id read
POST   /api/2.0/mlflow/runs/set-tag                               run:body.run_id write
POST   /api/2.0/mlflow/runs/delete-tag                            run:body.run_id write
GET    /api/2.0/mlflow/metrics/get-history                        run:query.run_id read
GET    /api/2.0/mlflow/metrics/get-history-bulk                   run:query.run_id read
GET    /api/2.0/mlflow/metrics/get-history-bulk-interval          run:query.run_ids read
GET    /api/2.0/mlflow/artifacts/list                             run:query.run_id read
POST   /api/2.0/mlflow/logged-models                              project:body.experiment_id write; run?:body.source_run_id read
POST   /api/2.0/mlflow/logged-models/search                       workspace read; project?:body.experiment_ids read
GET    /api/2.0/mlflow/logged-models/{model_id}                   logged-model:path.model_id read
PATCH  /api/2.0/mlflow/logged-models/{model_id}                   logged-model:path.model_id write
DELETE /api/2.0/mlflow/logged-models/{model_id}                   logged-model:path.model_id write
POST   /api/2.0/mlflow/logged-models/{model_id}/params            logged-model:path.model_id write
PATCH  /api/2.0/mlflow/logged-models/{model_id}/tags              logged-model:path.model_id write
DELETE /api/2.0/mlflow/logged-models/{model_id}/tags/{key:path}   logged-model:path.model_id write
POST   /api/2.0/mlflow/registered-models/create                   workspace write
GET    /api/2.0/mlflow/registered-models/get                      workspace read
GET    /api/2.0/mlflow/registered-models/search                   workspace read
POST   /api/2.0/mlflow/registered-models/search                   workspace read
POST   /api/2.0/mlflow/registered-models/rename                   workspace write
PATCH  /api/2.0/mlflow/registered-models/update                   workspace write
DELETE /api/2.0/mlflow/registered-models/delete                   workspace delete
POST   /api/2.0/mlflow/registered-models/set-tag                  workspace write
DELETE /api/2.0/mlflow/registered-models/delete-tag               workspace write
GET    /api/2.0/mlflow/registered-models/get-latest-versions      workspace read
POST   /api/2.0/mlflow/registered-models/get-latest-versions      workspace read
GET    /api/2.0/mlflow/registered-models/alias                    workspace read
POST   /api/2.0/mlflow/registered-models/alias                    workspace write
DELETE /api/2.0/mlflow/registered-models/alias                    workspace write
POST   /api/2.0/mlflow/model-versions/create                      workspace write; source?:body.source read; run?:body.run_id read; logged-model?:body.model_id read
GET    /api/2.0/mlflow/model-versions/get                         workspace read
GET    /api/2.0/mlflow/model-versions/search                      workspace read
POST   /api/2.0/mlflow/model-versions/search                      workspace read
PATCH  /api/2.0/mlflow/model-versions/update                      workspace write
DELETE /api/2.0/mlflow/model-versions/delete                      workspace delete
POST   /api/2.0/mlflow/model-versions/set-tag                     workspace write
DELETE /api/2.0/mlflow/model-versions/delete-tag                  workspace write
POST   /api/2.0/mlflow/model-versions/transition-stage            workspace write
GET    /api/2.0/mlflow/model-versions/get-download-uri            workspace read
GET    /api/2.0/mlflow-artifacts/artifacts                        workspace read; project?:query.path/0 read
GET    /api/2.0/mlflow-artifacts/artifacts/{path:path}            project:path.path/0 read
PUT    /api/2.0/mlflow-artifacts/artifacts/{path:path}            project:path.path/0 write
DELETE /api/2.0/mlflow-artifacts/artifacts/{path:path}            project:path.path/0 write
"""
