import { createI18n } from 'vue-i18n';

const en = {
  app: { signOut: 'Sign out', language: 'Language' },
  nav: { inbox: 'Inbox', helpdeskSetup: 'Helpdesk setup', instances: 'Instances', plugins: 'Plugins', settings: 'Settings', users: 'Users', apiKeys: 'API keys', sandbox: 'Sandbox phones', reports: 'Reports' },
  auth: { signIn: 'Sign in', email: 'Email', password: 'Password', setupTitle: 'Set up PlugChat', account: 'Company name', name: 'Your name', create: 'Create the owner' },
  instances: {
    title: 'Instances', add: 'Add', name: 'Name', state: 'State', phone: 'Phone', open: 'Open', none: 'No instances yet.',
    connected: 'Connected', qr: 'Scan the QR code', connecting: 'Connecting', disconnected: 'Disconnected', logged_out: 'Logged out', expired: 'QR expired',
    connect: 'Connect', disconnect: 'Disconnect', restart: 'Restart', edit: 'Edit', delete: 'Delete', rename: 'Rename', save: 'Save',
    id: 'Instance ID', token: 'Token', copy: 'Copy', copied: 'Copied', rotate: 'Rotate token', scanHelp: 'Open WhatsApp on the phone → Linked devices → Link a device, and scan:',
    pairingCode: 'Or connect with a phone number', getCode: 'Get code', send: 'Send a test message', to: 'To (number)', message: 'Message', sendButton: 'Send',
    messages: 'Recent messages', queue: 'Queue', empty: 'Nothing here.', confirmDelete: 'Delete this instance and its messages?',
  },
  plugins: { title: 'Plugins', state: 'State', reason: 'Reason' },
  settings: { title: 'Settings', save: 'Save', saved: 'Saved' },
  users: { title: 'Users', add: 'Add user', role: 'Role', disabled: 'Disabled' },
  keys: { title: 'API keys', add: 'Create key', once: 'Copy it now: it is shown only once.', revoke: 'Revoke', revoked: 'Revoked' },
  webhooks: {
    title: 'Webhooks', url: 'URL', save: 'Save', test: 'Test fire', log: 'Delivery log', redeliver: 'Redeliver', status: 'Status', attempts: 'Attempts', event: 'Event', all: 'All',
    received: 'On receive', delivery: 'On send (delivery)', 'message-status': 'Message status', connected: 'On connect', disconnected: 'On disconnect', 'chat-presence': 'Chat presence',
  },
  sandbox: { title: 'Sandbox phones', create: 'Create phone', phone: 'Number', name: 'Name', scan: 'Scan with a sandbox phone', scanned: 'Scanned', chat: 'Chat as the customer', to: 'Business number', send: 'Send', markRead: 'Mark read', online: 'Online' },
  helpdesk: {
    inbox: 'Inbox', setup: 'Helpdesk setup', mine: 'Mine', unassigned: 'Waiting', all: 'All', search: 'Search name, number or message', allQueues: 'All queues',
    noInstance: 'Connect an instance to start serving customers.', connectNow: 'Go to Instances', emptyList: 'No conversations here.', pick: 'Pick a conversation on the left.',
    online: 'Online', away: 'Away', offline: 'Offline', presence: 'My status',
    pending: 'Waiting', open: 'Open', snoozed: 'Snoozed', resolved: 'Resolved',
    accept: 'Accept', transfer: 'Transfer', resolve: 'Resolve', reopen: 'Reopen', snooze: 'Snooze 1 h', assignTo: 'Agent', queue: 'Queue', noQueue: 'No queue', noAgent: 'Nobody (to the queue)',
    transferTitle: 'Transfer the conversation', transferMessage: 'Message to the customer (optional)', confirm: 'Confirm', cancel: 'Cancel',
    write: 'Write a message; / for quick replies', writeNote: 'Write a private note (only agents see it)', send: 'Send', note: 'Note', attach: 'Attach a file', emoji: 'Emoji',
    replyingTo: 'Replying to', cancelReply: 'Cancel reply', reply: 'Reply', react: 'React', delete: 'Delete for everyone', older: 'Load older messages',
    waiting: 'Waiting for this message. This may take a while.', deleted: 'This message was deleted', you: 'You', customer: 'Customer', automatic: 'Automatic',
    status: { QUEUED: 'Queued', SENDING: 'Sending', SENT: 'Sent', RECEIVED: 'Delivered', READ: 'Read', PLAYED: 'Played', FAILED: 'Failed' },
    kind: { image: 'Photo', video: 'Video', audio: 'Audio', voice: 'Voice message', document: 'Document', location: 'Location', contact: 'Contact', sticker: 'Sticker', reaction: 'Reaction', unknown: 'Message' },
    activity: {
      created: 'Conversation started', assigned: 'Assigned to {who}', transferred: 'Transferred: {from} → {to}', resolved: 'Resolved by {who}', reopened: 'Reopened',
      snoozed: 'Snoozed', woke: 'Back from snooze', label_added: 'Label added: {label}', label_removed: 'Label removed: {label}', priority_changed: 'Priority: {to}',
      queue_chosen: 'Chose the queue {queue}', message_deleted: 'A message was deleted', other: '{type}',
    },
    contact: 'Contact', name: 'Name', phone: 'Phone', labels: 'Labels', attributes: 'Attributes', previous: 'Previous conversations', optedOut: 'Opted out: cannot be messaged', save: 'Save', saved: 'Saved',
    shortcuts: 'Keyboard shortcuts', shortcutList: 'Ctrl+Enter send · Alt+A accept · Alt+R resolve · Alt+T transfer · Alt+N note mode · Esc cancel reply',
    queues: 'Queues', addQueue: 'Add queue', members: 'Members', greeting: 'Greeting', assignment: 'Assignment', manual: 'Manual (agents accept)', round_robin: 'Automatic (round robin)',
    hours: 'Business hours', hoursHelp: 'One line per day: weekday number (0 = Sunday) and hours, e.g. 1 09:00-18:00', outOfHours: 'Out-of-hours message', timeZone: 'Time zone',
    quickReplies: 'Quick replies', addQuickReply: 'Add quick reply', shortcut: 'Shortcut', text: 'Text', variables: 'Variables: {vars}', personal: 'Only mine',
    addLabel: 'Add label', color: 'Colour', remove: 'Remove', routing: 'Routing per number', defaultQueue: 'Default queue', menu: 'Menu', capacity: 'Capacity',
    newMessage: 'New message from {name}', priority: 'Priority', instance: 'Instance', notifications: 'Notifications',
  },
  reports: {
    title: 'Reports', today: 'Today', last7: 'Last 7 days', last30: 'Last 30 days', thisMonth: 'This month', period: 'Period', groupBy: 'Group by', hour: 'Hour', day: 'Day', week: 'Week',
    allInstances: 'All numbers', allQueues: 'All queues', allAgents: 'All agents', allLabels: 'All labels', timeZone: 'Times in {zone}',
    now: 'Right now', open: 'Open', pending: 'Waiting', unassigned: 'Unassigned', unattended: 'Unattended', agentsOnline: 'Agents online',
    created: 'New attendances', resolved: 'Resolved', reopened: 'Reopened', messagesIn: 'Messages received', messagesOut: 'Messages sent', assigned: 'Assigned', transfersIn: 'Transfers in', transfersOut: 'Transfers out',
    times: 'Response times', firstResponse: 'First response', replyTime: 'Reply time', resolution: 'Resolution', assignmentWait: 'Wait for an agent',
    metric: 'Metric', count: 'Count', avg: 'Average', median: 'Median', p90: '90% within', business: 'Business hours (median)',
    overTime: 'Over time', firstResponseAvg: 'First response, average', heatmap: 'Busiest hours: customer messages', heatmapLabel: '{count} messages on {day} at {hour}h',
    byAgent: 'Per agent', byQueue: 'Per queue', byLabel: 'Per label', topClients: 'Top 10 clients (messages sent)', noAgent: 'No agent (waiting in the queue)', noQueue: 'No queue', name: 'Name',
    rank: '#', client: 'Client', phone: 'Phone', messages: 'Messages', attendances: 'Attendances', lastMessage: 'Last message',
    csv: 'Download CSV', drill: '{metric}: the attendances behind the figure', attendance: 'Attendance', when: 'When', time: 'Time', agent: 'Agent', more: 'Load more', close: 'Close',
    empty: 'Nothing in this period.', more2: 'Other figures', failed: 'These figures could not be computed.', seeAttendances: 'See the attendances',
  },
  errors: { boundary: 'This panel failed to load.' },
};

const ptBR: typeof en = {
  app: { signOut: 'Sair', language: 'Idioma' },
  nav: { inbox: 'Atendimentos', helpdeskSetup: 'Configurar atendimento', instances: 'Instâncias', plugins: 'Plugins', settings: 'Configurações', users: 'Usuários', apiKeys: 'Chaves de API', sandbox: 'Telefones sandbox', reports: 'Relatórios' },
  auth: { signIn: 'Entrar', email: 'E-mail', password: 'Senha', setupTitle: 'Configurar o PlugChat', account: 'Nome da empresa', name: 'Seu nome', create: 'Criar o proprietário' },
  instances: {
    title: 'Instâncias', add: 'Adicionar', name: 'Nome', state: 'Estado', phone: 'Telefone', open: 'Abrir', none: 'Nenhuma instância ainda.',
    connected: 'Conectado', qr: 'Escaneie o QR code', connecting: 'Conectando', disconnected: 'Desconectado', logged_out: 'Deslogado', expired: 'QR expirado',
    connect: 'Conectar', disconnect: 'Desconectar', restart: 'Reiniciar', edit: 'Editar', delete: 'Excluir', rename: 'Renomear', save: 'Salvar',
    id: 'ID da instância', token: 'Token', copy: 'Copiar', copied: 'Copiado', rotate: 'Gerar novo token', scanHelp: 'Abra o WhatsApp no celular → Aparelhos conectados → Conectar um aparelho, e escaneie:',
    pairingCode: 'Ou conecte com o número de telefone', getCode: 'Gerar código', send: 'Enviar mensagem de teste', to: 'Para (número)', message: 'Mensagem', sendButton: 'Enviar',
    messages: 'Mensagens recentes', queue: 'Fila', empty: 'Nada por aqui.', confirmDelete: 'Excluir esta instância e as mensagens dela?',
  },
  plugins: { title: 'Plugins', state: 'Estado', reason: 'Motivo' },
  settings: { title: 'Configurações', save: 'Salvar', saved: 'Salvo' },
  users: { title: 'Usuários', add: 'Adicionar usuário', role: 'Papel', disabled: 'Desativado' },
  keys: { title: 'Chaves de API', add: 'Criar chave', once: 'Copie agora: ela só é mostrada uma vez.', revoke: 'Revogar', revoked: 'Revogada' },
  webhooks: {
    title: 'Webhooks', url: 'URL', save: 'Salvar', test: 'Disparar teste', log: 'Log de entregas', redeliver: 'Reenviar', status: 'Status', attempts: 'Tentativas', event: 'Evento', all: 'Todos',
    received: 'Ao receber', delivery: 'Ao enviar (entrega)', 'message-status': 'Status da mensagem', connected: 'Ao conectar', disconnected: 'Ao desconectar', 'chat-presence': 'Presença do chat',
  },
  sandbox: { title: 'Telefones sandbox', create: 'Criar telefone', phone: 'Número', name: 'Nome', scan: 'Escanear com um telefone sandbox', scanned: 'Escaneado', chat: 'Conversar como o cliente', to: 'Número da empresa', send: 'Enviar', markRead: 'Marcar como lida', online: 'Online' },
  helpdesk: {
    inbox: 'Atendimentos', setup: 'Configurar atendimento', mine: 'Meus', unassigned: 'Aguardando', all: 'Todos', search: 'Buscar nome, número ou mensagem', allQueues: 'Todas as filas',
    noInstance: 'Conecte uma instância para começar a atender.', connectNow: 'Ir para Instâncias', emptyList: 'Nenhuma conversa aqui.', pick: 'Escolha uma conversa à esquerda.',
    online: 'Online', away: 'Ausente', offline: 'Offline', presence: 'Meu status',
    pending: 'Aguardando', open: 'Em atendimento', snoozed: 'Adiado', resolved: 'Resolvido',
    accept: 'Aceitar', transfer: 'Transferir', resolve: 'Resolver', reopen: 'Reabrir', snooze: 'Adiar 1 h', assignTo: 'Atendente', queue: 'Fila', noQueue: 'Sem fila', noAgent: 'Ninguém (para a fila)',
    transferTitle: 'Transferir a conversa', transferMessage: 'Mensagem ao cliente (opcional)', confirm: 'Confirmar', cancel: 'Cancelar',
    write: 'Digite uma mensagem; / para mensagens rápidas', writeNote: 'Escreva uma nota interna (só atendentes veem)', send: 'Enviar', note: 'Nota', attach: 'Anexar arquivo', emoji: 'Emoji',
    replyingTo: 'Respondendo a', cancelReply: 'Cancelar resposta', reply: 'Responder', react: 'Reagir', delete: 'Apagar para todos', older: 'Carregar mensagens anteriores',
    waiting: 'Aguardando mensagem. Isso pode levar alguns instantes.', deleted: 'Mensagem apagada', you: 'Você', customer: 'Cliente', automatic: 'Automática',
    status: { QUEUED: 'Na fila', SENDING: 'Enviando', SENT: 'Enviada', RECEIVED: 'Entregue', READ: 'Lida', PLAYED: 'Reproduzida', FAILED: 'Falhou' },
    kind: { image: 'Foto', video: 'Vídeo', audio: 'Áudio', voice: 'Mensagem de voz', document: 'Documento', location: 'Localização', contact: 'Contato', sticker: 'Figurinha', reaction: 'Reação', unknown: 'Mensagem' },
    activity: {
      created: 'Conversa iniciada', assigned: 'Atribuída a {who}', transferred: 'Transferida: {from} → {to}', resolved: 'Resolvida por {who}', reopened: 'Reaberta',
      snoozed: 'Adiada', woke: 'Voltou do adiamento', label_added: 'Etiqueta adicionada: {label}', label_removed: 'Etiqueta removida: {label}', priority_changed: 'Prioridade: {to}',
      queue_chosen: 'Escolheu a fila {queue}', message_deleted: 'Uma mensagem foi apagada', other: '{type}',
    },
    contact: 'Contato', name: 'Nome', phone: 'Telefone', labels: 'Etiquetas', attributes: 'Atributos', previous: 'Conversas anteriores', optedOut: 'Pediu para sair: não pode receber mensagens', save: 'Salvar', saved: 'Salvo',
    shortcuts: 'Atalhos de teclado', shortcutList: 'Ctrl+Enter envia · Alt+A aceita · Alt+R resolve · Alt+T transfere · Alt+N modo nota · Esc cancela a resposta',
    queues: 'Filas', addQueue: 'Adicionar fila', members: 'Membros', greeting: 'Saudação', assignment: 'Distribuição', manual: 'Manual (atendentes aceitam)', round_robin: 'Automática (rodízio)',
    hours: 'Horário de atendimento', hoursHelp: 'Uma linha por dia: número do dia (0 = domingo) e horário, ex.: 1 09:00-18:00', outOfHours: 'Mensagem fora do horário', timeZone: 'Fuso horário',
    quickReplies: 'Mensagens rápidas', addQuickReply: 'Adicionar mensagem rápida', shortcut: 'Atalho', text: 'Texto', variables: 'Variáveis: {vars}', personal: 'Só minha',
    addLabel: 'Adicionar etiqueta', color: 'Cor', remove: 'Remover', routing: 'Roteamento por número', defaultQueue: 'Fila padrão', menu: 'Menu', capacity: 'Capacidade',
    newMessage: 'Nova mensagem de {name}', priority: 'Prioridade', instance: 'Instância', notifications: 'Notificações',
  },
  reports: {
    title: 'Relatórios', today: 'Hoje', last7: 'Últimos 7 dias', last30: 'Últimos 30 dias', thisMonth: 'Este mês', period: 'Período', groupBy: 'Agrupar por', hour: 'Hora', day: 'Dia', week: 'Semana',
    allInstances: 'Todos os números', allQueues: 'Todas as filas', allAgents: 'Todos os atendentes', allLabels: 'Todas as etiquetas', timeZone: 'Horários em {zone}',
    now: 'Agora', open: 'Em atendimento', pending: 'Aguardando', unassigned: 'Sem atendente', unattended: 'Sem resposta', agentsOnline: 'Atendentes online',
    created: 'Novos atendimentos', resolved: 'Resolvidos', reopened: 'Reabertos', messagesIn: 'Mensagens recebidas', messagesOut: 'Mensagens enviadas', assigned: 'Atribuídos', transfersIn: 'Transferências recebidas', transfersOut: 'Transferências feitas',
    times: 'Tempos de atendimento', firstResponse: 'Primeira resposta', replyTime: 'Tempo de resposta', resolution: 'Resolução', assignmentWait: 'Espera por atendente',
    metric: 'Métrica', count: 'Quantidade', avg: 'Média', median: 'Mediana', p90: '90% em até', business: 'Horário comercial (mediana)',
    overTime: 'Ao longo do tempo', firstResponseAvg: 'Primeira resposta, média', heatmap: 'Horários de pico: mensagens de clientes', heatmapLabel: '{count} mensagens {day} às {hour}h',
    byAgent: 'Por atendente', byQueue: 'Por fila', byLabel: 'Por etiqueta', topClients: 'Top 10 clientes (mensagens enviadas)', noAgent: 'Sem atendente (na fila)', noQueue: 'Sem fila', name: 'Nome',
    rank: '#', client: 'Cliente', phone: 'Telefone', messages: 'Mensagens', attendances: 'Atendimentos', lastMessage: 'Última mensagem',
    csv: 'Baixar CSV', drill: '{metric}: os atendimentos por trás do número', attendance: 'Atendimento', when: 'Quando', time: 'Tempo', agent: 'Atendente', more: 'Carregar mais', close: 'Fechar',
    empty: 'Nada neste período.', more2: 'Outros números', failed: 'Não foi possível calcular estes números.', seeAttendances: 'Ver os atendimentos',
  },
  errors: { boundary: 'Este painel não carregou.' },
};

const saved = localStorage.getItem('plugchat.locale');
const browser = navigator.language?.toLowerCase().startsWith('pt') ? 'pt-BR' : 'en';

export const i18n = createI18n({ legacy: false, locale: saved ?? browser, fallbackLocale: 'en', messages: { en, 'pt-BR': ptBR } });

export function setLocale(locale: 'en' | 'pt-BR') {
  i18n.global.locale.value = locale;
  localStorage.setItem('plugchat.locale', locale);
  document.documentElement.lang = locale;
}
