<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="es">
  <context>
    <name>AccountController</name>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="53" />
      <source>Signed in as {user} ({email}) on {server}</source>
      <translation>Sesión iniciada como {user} ({email}) en {server}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="65" />
      <source>Your session is kept in the system keyring.</source>
      <translation>Tu sesión se guarda en el llavero del sistema.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="78" />
      <source>Saved. PoolDesk speaks the new language from its next start.</source>
      <translation>Guardado. PoolDesk usará el nuevo idioma a partir del próximo inicio.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="98" />
      <source>unknown app</source>
      <translation>aplicación desconocida</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="109" />
      <location filename="../../pooldesk/ui/controllers/account.py" line="114" />
      <source>End session</source>
      <translation>Cerrar sesión</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="111" />
      <source>End the selected session? That app or computer is signed out at once and has to sign in again.</source>
      <translation>¿Cerrar la sesión seleccionada? Esa aplicación u ordenador se desconecta al momento y tendrá que volver a iniciar sesión.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="127" />
      <source>That session has ended.</source>
      <translation>Esa sesión ha terminado.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="162" />
      <source>Save my data</source>
      <translation>Guardar mis datos</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="164" />
      <source>JSON files (*.json)</source>
      <translation>Archivos JSON (*.json)</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="182" />
      <source>Could not save {path}: {error}</source>
      <translation>No se pudo guardar {path}: {error}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="185" />
      <source>Your data was saved to {path}.</source>
      <translation>Tus datos se guardaron en {path}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="190" />
      <source>Delete account</source>
      <translation>Eliminar la cuenta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="192" />
      <source>Delete the account "{user}" for good? Your devices are unbound and their history is erased.</source>
      <translation>¿Eliminar definitivamente la cuenta «{user}»? Tus dispositivos se desvinculan y su historial se borra.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/account.py" line="195" />
      <source>Delete for good</source>
      <translation>Eliminar definitivamente</translation>
    </message>
  </context>
  <context>
    <name>AccountView</name>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="47" />
      <source>← Dashboard</source>
      <translation>← Panel</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="49" />
      <source>Account</source>
      <translation>Cuenta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="71" />
      <location filename="../../pooldesk/ui/views/account_view.py" line="85" />
      <source>Change password</source>
      <translation>Cambiar la contraseña</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="78" />
      <source>Current password</source>
      <translation>Contraseña actual</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="79" />
      <source>New password</source>
      <translation>Contraseña nueva</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="82" />
      <source>Repeat new password</source>
      <translation>Repite la contraseña nueva</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="87" />
      <source>Changing the password signs out your other sessions.</source>
      <translation>Al cambiar la contraseña se cierran tus otras sesiones.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="93" />
      <source>Where you are signed in</source>
      <translation>Dónde tienes la sesión iniciada</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="97" />
      <source>App</source>
      <translation>Aplicación</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="97" />
      <source>Signed in</source>
      <translation>Inicio de sesión</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="97" />
      <source>Last used</source>
      <translation>Último uso</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="110" />
      <source>Refresh</source>
      <translation>Actualizar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="111" />
      <source>End selected session</source>
      <translation>Cerrar la sesión seleccionada</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="119" />
      <source>Your data</source>
      <translation>Tus datos</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="121" />
      <source>Export my data (JSON)…</source>
      <translation>Exportar mis datos (JSON)…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="126" />
      <source>Server on this computer</source>
      <translation>Servidor en este ordenador</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="134" />
      <source>Stop and remove the server…</source>
      <translation>Detener y quitar el servidor…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="141" />
      <source>This app</source>
      <translation>Esta aplicación</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="144" />
      <source>Notify me when a device goes offline or raises an alert</source>
      <translation>Avisarme cuando un dispositivo se desconecte o dé una alerta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="148" />
      <source>Language</source>
      <translation>Idioma</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="150" />
      <location filename="../../pooldesk/ui/views/account_view.py" line="157" />
      <source>Same as the system</source>
      <translation>El del sistema</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="155" />
      <source>Temperatures in</source>
      <translation>Temperaturas en</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="158" />
      <source>°C</source>
      <translation>°C</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="159" />
      <source>°F</source>
      <translation>°F</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="172" />
      <source>Delete account</source>
      <translation>Eliminar la cuenta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="176" />
      <source>This deletes your account, unbinds your devices and erases their history. It cannot be undone.</source>
      <translation>Esto elimina tu cuenta, desvincula tus dispositivos y borra su historial. No se puede deshacer.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="184" />
      <source>Your password</source>
      <translation>Tu contraseña</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="186" />
      <source>I understand that this cannot be undone</source>
      <translation>Entiendo que esto no se puede deshacer</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="188" />
      <source>Delete my account…</source>
      <translation>Eliminar mi cuenta…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/account_view.py" line="242" />
      <source>(this app)</source>
      <translation>(esta aplicación)</translation>
    </message>
  </context>
  <context>
    <name>AppController</name>
    <message>
      <location filename="../../pooldesk/ui/controllers/app.py" line="140" />
      <source>Your server runs on this computer. Use “Create an account” to make your account on it.</source>
      <translation>Tu servidor funciona en este ordenador. Usa «Crear una cuenta» para crear tu cuenta en él.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/app.py" line="150" />
      <source>This computer runs your PoolDesk server as a background service; it keeps running when PoolDesk is closed.</source>
      <translation>Este ordenador ejecuta tu servidor de PoolDesk como servicio en segundo plano; sigue funcionando aunque cierres PoolDesk.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/app.py" line="155" />
      <source>This computer runs your PoolDesk server while PoolDesk is open (this system has no user services).</source>
      <translation>Este ordenador ejecuta tu servidor de PoolDesk mientras PoolDesk está abierto (este sistema no tiene servicios de usuario).</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/app.py" line="159" />
      <source>While this computer is off, the controllers keep their schedules, timers and freeze protection; history and remote control wait.</source>
      <translation>Mientras este ordenador está apagado, los controladores mantienen sus horarios, temporizadores y protección antiheladas; el historial y el control remoto esperan.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/app.py" line="165" />
      <source>Stop and remove the server?</source>
      <translation>¿Detener y quitar el servidor?</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/app.py" line="166" />
      <source>The server on this computer stops and no longer starts by itself. Your account and history stay in its data folder; controllers cannot report until a server runs again.</source>
      <translation>El servidor de este ordenador se detiene y ya no arranca solo. Tu cuenta y el historial se quedan en su carpeta de datos; los controladores no podrán informar hasta que vuelva a funcionar un servidor.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/app.py" line="169" />
      <source>Stop and remove</source>
      <translation>Detener y quitar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/app.py" line="182" />
      <source>The server on this computer was stopped and removed.</source>
      <translation>El servidor de este ordenador se ha detenido y quitado.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/app.py" line="196" />
      <source>Server: {url}</source>
      <translation>Servidor: {url}</translation>
    </message>
  </context>
  <context>
    <name>AuthController</name>
    <message>
      <location filename="../../pooldesk/ui/controllers/auth.py" line="49" />
      <source>Server: {url}</source>
      <translation>Servidor: {url}</translation>
    </message>
  </context>
  <context>
    <name>DashboardController</name>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="286" />
      <source>Pools</source>
      <translation>Piscinas</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="286" />
      <source>My pools</source>
      <translation>Mis piscinas</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="420" />
      <source>Shared by {owner} · {role}</source>
      <translation>Compartida por {owner} · {role}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="421" />
      <source>Shared with you · {role}</source>
      <translation>Compartida contigo · {role}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="427" />
      <source>You are a viewer of this pool: you can see it, but not switch the pump or change the schedule.</source>
      <translation>Eres observador de esta piscina: puedes verla, pero no encender la bomba ni cambiar el horario.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="431" />
      <source>{owner} shared this pool with you as a viewer: you can see it, but not switch the pump or change the schedule. Ask {owner} to make you an operator.</source>
      <translation>{owner} compartió esta piscina contigo como observador: puedes verla, pero no encender la bomba ni cambiar el horario. Pide a {owner} que te haga operador.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="497" />
      <source>Turning the pump on by hand pauses the schedule of {name}: the pump stays on until you turn it off or press “Resume schedule”.</source>
      <translation>Encender la bomba a mano pausa el horario de {name}: la bomba sigue encendida hasta que la apagues o pulses «Reanudar horario».</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="502" />
      <source>Turning the pump off by hand pauses the schedule of {name}: the pump stays off until you turn it on or press “Resume schedule”.</source>
      <translation>Apagar la bomba a mano pausa el horario de {name}: la bomba sigue apagada hasta que la enciendas o pulses «Reanudar horario».</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="507" />
      <source>Pause the schedule?</source>
      <translation>¿Pausar el horario?</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="509" />
      <source>Turn on</source>
      <translation>Encender</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="509" />
      <source>Turn off</source>
      <translation>Apagar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="538" />
      <source>Confirmed by the controller.</source>
      <translation>Confirmado por el controlador.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="549" />
      <source>Rename device</source>
      <translation>Cambiar el nombre del dispositivo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="550" />
      <source>Name</source>
      <translation>Nombre</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="573" />
      <source>Remove device</source>
      <translation>Quitar el dispositivo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="575" />
      <source>Remove "{name}" ({id}) from your account? It stops reporting to you and its broker login is deleted. You can add it again with its claim code.</source>
      <translation>¿Quitar «{name}» ({id}) de tu cuenta? Dejará de informarte y se borrará su acceso al bróker. Puedes volver a añadirlo con su código de reclamación.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="578" />
      <source>Remove</source>
      <translation>Quitar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="595" />
      <source>{name} was removed.</source>
      <translation>Se quitó {name}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="649" />
      <source>Alerts · {name}</source>
      <translation>Alertas · {name}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="709" />
      <source>{name} is offline</source>
      <translation>{name} está desconectado</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="710" />
      <source>The controller stopped reporting.</source>
      <translation>El controlador dejó de informar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="714" />
      <source>Alert from {name}</source>
      <translation>Alerta de {name}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="261" />
      <source>Live</source>
      <translation>En directo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="263" />
      <source>Connecting…</source>
      <translation>Conectando…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="265" />
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="272" />
      <source>Reconnecting…</source>
      <translation>Reconectando…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="270" />
      <source>Not connected, retrying in {s} s</source>
      <translation>Sin conexión, se reintenta en {s} s</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="275" />
      <source>Not connected</source>
      <translation>Sin conexión</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="277" />
      <source>Offline</source>
      <translation>Desconectado</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="340" />
      <source>This app is not connected · values may be out of date</source>
      <translation>Esta aplicación no está conectada · los valores pueden no estar al día</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="342" />
      <source>Online</source>
      <translation>En línea</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="344" />
      <source>Offline · last seen {when}</source>
      <translation>Desconectado · visto por última vez {when}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="346" />
      <source>Status unknown</source>
      <translation>Estado desconocido</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="346" />
      <source>Waiting for the broker…</source>
      <translation>Esperando al bróker…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="354" />
      <source>(recorded {ago})</source>
      <translation>(registrado {ago})</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="358" />
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="375" />
      <source>(last known)</source>
      <translation>(último conocido)</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="361" />
      <source>Pump: unknown</source>
      <translation>Bomba: desconocida</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="363" />
      <source>on</source>
      <translation>encendida</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="363" />
      <source>off</source>
      <translation>apagada</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="364" />
      <source>Pump {state} · {mode}</source>
      <translation>Bomba {state} · {mode}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="368" />
      <source>until {time}</source>
      <translation>hasta las {time}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="371" />
      <source>({left} left)</source>
      <translation>(quedan {left})</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="373" />
      <source>schedule paused</source>
      <translation>horario en pausa</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="381" />
      <source>Turning on…</source>
      <translation>Encendiendo…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="383" />
      <source>Turning off…</source>
      <translation>Apagando…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="385" />
      <source>Sending…</source>
      <translation>Enviando…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="387" />
      <source>Waiting for the controller…</source>
      <translation>Esperando al controlador…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="440" />
      <source>Air {t}</source>
      <translation>Aire {t}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="445" />
      <source>No scheduled runs</source>
      <translation>Sin funcionamiento programado</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="447" />
      <source>Scheduled run until {end} (paused)</source>
      <translation>Funcionamiento programado hasta las {end} (en pausa)</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="451" />
      <source>Scheduled run until {end}</source>
      <translation>Funcionamiento programado hasta las {end}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="453" />
      <source>Next run: {day} {start}–{end}</source>
      <translation>Próximo funcionamiento: {day} {start}–{end}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="464" />
      <source>Ran {today} today · {week} this week</source>
      <translation>Funcionó {today} hoy · {week} esta semana</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="471" />
      <source>very weak</source>
      <translation>muy débil</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="471" />
      <source>weak</source>
      <translation>débil</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="471" />
      <source>fair</source>
      <translation>aceptable</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="471" />
      <source>good</source>
      <translation>buena</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="471" />
      <source>excellent</source>
      <translation>excelente</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="472" />
      <source>Wi-Fi {quality} ({rssi} dBm)</source>
      <translation>Wi-Fi {quality} ({rssi} dBm)</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="478" />
      <source>up {duration}</source>
      <translation>encendido desde hace {duration}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="667" />
      <source>Critical</source>
      <translation>Crítica</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="667" />
      <source>Warning</source>
      <translation>Aviso</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="667" />
      <source>Information</source>
      <translation>Información</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="670" />
      <source>since {time}</source>
      <translation>desde {time}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="672" />
      <source>cleared {time}</source>
      <translation>resuelta {time}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="679" />
      <source>1 active alert</source>
      <translation>1 alerta activa</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="679" />
      <source>{n} active alerts</source>
      <translation>{n} alertas activas</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="682" />
      <source>No active alerts. Earlier ones are listed below.</source>
      <translation>No hay alertas activas. Las anteriores aparecen debajo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/dashboard.py" line="684" />
      <source>No alerts since this app started. The controller reports active alerts again whenever the app connects.</source>
      <translation>No hay alertas desde que se abrió la aplicación. El controlador vuelve a comunicar las alertas activas cada vez que la aplicación se conecta.</translation>
    </message>
  </context>
  <context>
    <name>DashboardView</name>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="326" />
      <source>My pools</source>
      <translation>Mis piscinas</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="337" />
      <source>Add device</source>
      <translation>Añadir dispositivo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="340" />
      <source>Set up a controller from here…</source>
      <translation>Configurar un controlador desde aquí…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="341" />
      <source>Installer code…</source>
      <translation>Código de instalador…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="343" />
      <source>A one-time code that lets an installer add a controller to your account</source>
      <translation>Un código de un solo uso con el que un instalador añade un controlador a tu cuenta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="347" />
      <source>Inbox</source>
      <translation>Bandeja</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="349" />
      <source>Account</source>
      <translation>Cuenta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="350" />
      <source>Sign out</source>
      <translation>Cerrar sesión</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="364" />
      <source>No devices yet. Use "Add device" to set up a controller.</source>
      <translation>Aún no hay dispositivos. Usa «Añadir dispositivo» para configurar un controlador.</translation>
    </message>
  </context>
  <context>
    <name>DeviceCard</name>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="115" />
      <source>History…</source>
      <translation>Historial…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="116" />
      <source>Schedule…</source>
      <translation>Horario…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="117" />
      <source>Alerts…</source>
      <translation>Alertas…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="119" />
      <source>People and hand-over…</source>
      <translation>Personas y traspaso…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="120" />
      <source>Rename…</source>
      <translation>Cambiar nombre…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="121" />
      <source>Change Wi-Fi…</source>
      <translation>Cambiar la wifi…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="122" />
      <source>Remove from my account…</source>
      <translation>Quitar de mi cuenta…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="123" />
      <source>Stop using this shared device…</source>
      <translation>Dejar de usar este dispositivo compartido…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="180" />
      <source>Run for…</source>
      <translation>Funcionar durante…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="187" />
      <source>{h} h</source>
      <translation>{h} h</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="187" />
      <source>{m} min</source>
      <translation>{m} min</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="191" />
      <source>Follow the schedule</source>
      <translation>Seguir el horario</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="194" />
      <source>Resume schedule</source>
      <translation>Reanudar horario</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/dashboard_view.py" line="195" />
      <source>Hand the pump back to its schedule</source>
      <translation>Devolver la bomba a su horario</translation>
    </message>
  </context>
  <context>
    <name>HistoryController</name>
    <message>
      <location filename="../../pooldesk/ui/controllers/history.py" line="53" />
      <source>History of {name}</source>
      <translation>Historial de {name}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/history.py" line="83" />
      <source>Loading…</source>
      <translation>Cargando…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/history.py" line="102" />
      <source>Nothing recorded in this period yet.</source>
      <translation>Aún no hay nada registrado en este periodo.</translation>
    </message>
  </context>
  <context>
    <name>HistoryView</name>
    <message>
      <location filename="../../pooldesk/ui/views/history_view.py" line="33" />
      <source>24 hours</source>
      <translation>24 horas</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/history_view.py" line="33" />
      <source>7 days</source>
      <translation>7 días</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/history_view.py" line="46" />
      <source>Water °C</source>
      <translation>Agua °C</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/history_view.py" line="57" />
      <source>Pump</source>
      <translation>Bomba</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/history_view.py" line="59" />
      <location filename="../../pooldesk/ui/views/history_view.py" line="70" />
      <source>off</source>
      <translation>apagada</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/history_view.py" line="59" />
      <location filename="../../pooldesk/ui/views/history_view.py" line="70" />
      <source>on</source>
      <translation>encendida</translation>
    </message>
  </context>
  <context>
    <name>InboxView</name>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="288" />
      <source>Waiting for your answer</source>
      <translation>Esperan tu respuesta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="292" />
      <source>Nothing waits for your answer.</source>
      <translation>Nada espera tu respuesta.</translation>
    </message>
  </context>
  <context>
    <name>LocalServerController</name>
    <message>
      <location filename="../../pooldesk/ui/controllers/local_server.py" line="66" />
      <source>Enter this computer's address on your home network, like 192.168.1.20.</source>
      <translation>Escribe la dirección de este ordenador en la red de tu casa, como 192.168.1.20.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/local_server.py" line="73" />
      <source>Starting the server…</source>
      <translation>Iniciando el servidor…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/local_server.py" line="79" />
      <source>The server could not be set up as a service: {reason}</source>
      <translation>No se pudo instalar el servidor como servicio: {reason}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/local_server.py" line="90" />
      <source>The server did not start. Its log is in {path}.</source>
      <translation>El servidor no arrancó. Su registro está en {path}.</translation>
    </message>
  </context>
  <context>
    <name>LocalServerView</name>
    <message>
      <location filename="../../pooldesk/ui/views/local_server_view.py" line="23" />
      <source>Run the server on this computer</source>
      <translation>Ejecutar el servidor en este ordenador</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/local_server_view.py" line="28" />
      <source>PoolDesk runs its own server on this computer: your account, the history and a secure link for the pool controllers on your home network. It keeps running when you close this window and starts again when you sign in to this computer.</source>
      <translation>PoolDesk ejecuta su propio servidor en este ordenador: tu cuenta, el historial y una conexión segura para los controladores de piscina de la red de tu casa. Sigue funcionando al cerrar esta ventana y vuelve a arrancar cuando inicias sesión en este ordenador.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/local_server_view.py" line="38" />
      <source>&lt;b&gt;While this computer is off&lt;/b&gt;, the controllers keep running their schedules, timers and freeze protection on their own. The history and switching the pump from the app wait until the computer is on again.</source>
      <translation>&lt;b&gt;Mientras este ordenador está apagado&lt;/b&gt;, los controladores siguen cumpliendo por sí solos sus horarios, temporizadores y protección antiheladas. El historial y el encendido de la bomba desde la aplicación esperan a que el ordenador vuelva a estar encendido.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/local_server_view.py" line="45" />
      <source>This computer's address on your home network:</source>
      <translation>Dirección de este ordenador en la red de tu casa:</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/local_server_view.py" line="49" />
      <source>The controllers connect to this address. Give this computer a fixed address in your router so it does not change.</source>
      <translation>Los controladores se conectan a esta dirección. Asigna a este ordenador una dirección fija en tu router para que no cambie.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/local_server_view.py" line="60" />
      <source>Start the server</source>
      <translation>Iniciar el servidor</translation>
    </message>
  </context>
  <context>
    <name>PeopleController</name>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="141" />
      <source>Inbox</source>
      <translation>Bandeja</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="246" />
      <source>Operator</source>
      <translation>Operador</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="246" />
      <source>Viewer</source>
      <translation>Observador</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="253" />
      <source>People · {name}</source>
      <translation>Personas · {name}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="275" />
      <source>An operator sees everything, switches the pump and edits schedules. Only you can rename, remove, share or hand over the device.</source>
      <translation>Un operador lo ve todo, enciende la bomba y edita los horarios. Solo tú puedes cambiar el nombre, quitar, compartir o traspasar el dispositivo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="278" />
      <source>A viewer sees the pump, the water and the history, and cannot switch or change anything.</source>
      <translation>Un observador ve la bomba, el agua y el historial, y no puede encender ni cambiar nada.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="346" />
      <source>Invitation sent. {name} sees it in their inbox and accepts it there.</source>
      <translation>Invitación enviada. {name} la verá en su bandeja y la aceptará allí.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="363" />
      <source>{name} loses access to all your devices at once, live connections included.</source>
      <translation>{name} pierde al instante el acceso a todos tus dispositivos, también las conexiones abiertas.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="365" />
      <source>{name} loses access to {device} at once, live connections included.</source>
      <translation>{name} pierde al instante el acceso a {device}, también las conexiones abiertas.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="368" />
      <source>End access?</source>
      <translation>¿Quitar el acceso?</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="368" />
      <source>End access</source>
      <translation>Quitar el acceso</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="385" />
      <location filename="../../pooldesk/ui/controllers/people.py" line="573" />
      <source>Access ended.</source>
      <translation>Acceso terminado.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="401" />
      <source>{name} is now {role}.</source>
      <translation>{name} ahora es {role}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="460" />
      <source>Its history goes with it.</source>
      <translation>Su historial se va con él.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="462" />
      <source>Its history is deleted.</source>
      <translation>Su historial se borra.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="465" />
      <source>Hand over {name}?</source>
      <translation>¿Traspasar {name}?</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="467" />
      <source>Once {to} accepts, {name} moves to their account: you and everyone you shared it with lose access, and it leaves your dashboard. {history}</source>
      <translation>Cuando {to} acepte, {name} pasará a su cuenta: tú y todas las personas con quienes lo compartiste perdéis el acceso y desaparece de tu panel. {history}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="470" />
      <source>Offer to {to}</source>
      <translation>Ofrecer a {to}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="512" />
      <source>Hand-over cancelled; the device stays yours.</source>
      <translation>Traspaso cancelado; el dispositivo sigue siendo tuyo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="542" />
      <source>The share of {name} was not found; it may have ended already.</source>
      <translation>No se encontró el acceso compartido a {name}; puede que ya haya terminado.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="549" />
      <source>You lose access to every pool {owner} shared with you. {owner} can invite you again.</source>
      <translation>Pierdes el acceso a todas las piscinas que {owner} compartió contigo. {owner} puede volver a invitarte.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="552" />
      <source>You lose access to {name}. {owner} can invite you again.</source>
      <translation>Pierdes el acceso a {name}. {owner} puede volver a invitarte.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="555" />
      <source>Stop using {name}?</source>
      <translation>¿Dejar de usar {name}?</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="557" />
      <source>Stop using it</source>
      <translation>Dejar de usarlo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="579" />
      <source>Installer set-up code</source>
      <translation>Código de instalación</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="619" />
      <source>Read it out to the installer or let them scan the QR code. PoolDesk shows it only now: close this window and it cannot be shown again.</source>
      <translation>Díctaselo al instalador o deja que escanee el código QR. PoolDesk solo lo muestra ahora: si cierras esta ventana, no se puede volver a mostrar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="629" />
      <source>Valid for {m}:{s:02d} more (until {time}), once.</source>
      <translation>Válido {m}:{s:02d} más (hasta las {time}), una sola vez.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="639" />
      <source>This code has expired. Create a new one if the installer still needs one.</source>
      <translation>Este código ha caducado. Crea otro si el instalador aún lo necesita.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="659" />
      <source>This code, valid until {time}</source>
      <translation>Este código, válido hasta las {time}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="660" />
      <source>An earlier code, valid until {time}</source>
      <translation>Un código anterior, válido hasta las {time}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="662" />
      <source>Withdraw</source>
      <translation>Retirar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="666" />
      <source>Unused codes (an installer can still use them):</source>
      <translation>Códigos sin usar (un instalador aún puede usarlos):</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="679" />
      <source>Withdrawn: this code no longer works.</source>
      <translation>Retirado: este código ya no funciona.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="680" />
      <source>The code was withdrawn.</source>
      <translation>El código se ha retirado.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="129" />
      <source>Inbox ({n})</source>
      <translation>Bandeja ({n})</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="131" />
      <source>1 invitation or device waits for your answer</source>
      <translation>1 invitación o dispositivo espera tu respuesta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="133" />
      <source>{n} invitations or devices wait for your answer</source>
      <translation>{n} invitaciones o dispositivos esperan tu respuesta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="136" />
      <source>Invitations to pools shared with you</source>
      <translation>Invitaciones a piscinas compartidas contigo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="166" />
      <source>Accept</source>
      <translation>Aceptar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="166" />
      <location filename="../../pooldesk/ui/controllers/people.py" line="171" />
      <source>Decline</source>
      <translation>Rechazar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="171" />
      <source>Accept the device</source>
      <translation>Aceptar el dispositivo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="179" />
      <source>you can switch the pump and edit schedules</source>
      <translation>puedes encender la bomba y editar los horarios</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="181" />
      <source>you can see its state and history</source>
      <translation>puedes ver su estado y su historial</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="184" />
      <source>{owner} invites you to all their pools as {role}: {rights}.</source>
      <translation>{owner} te invita a todas sus piscinas como {role}: {rights}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="188" />
      <source>{owner} invites you to the pool {device} as {role}: {rights}.</source>
      <translation>{owner} te invita a la piscina {device} como {role}: {rights}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="192" />
      <source>Invited {when}.</source>
      <translation>Invitación: {when}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="197" />
      <source>its history comes with it</source>
      <translation>su historial viene con él</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="199" />
      <source>its history is cleared</source>
      <translation>su historial se borra</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="202" />
      <source>{owner} offers you the device {device}: once you accept, it moves to your account and {owner} loses access; {history}.</source>
      <translation>{owner} te ofrece el dispositivo {device}: cuando aceptes, pasará a tu cuenta y {owner} perderá el acceso; {history}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="221" />
      <source>You now have access to the pools {owner} shared with you.</source>
      <translation>Ya tienes acceso a las piscinas que {owner} compartió contigo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="226" />
      <source>Invitation declined.</source>
      <translation>Invitación rechazada.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="229" />
      <source>{device} is moving to your account.</source>
      <translation>{device} está pasando a tu cuenta.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="232" />
      <source>Device declined; it stays with its owner.</source>
      <translation>Dispositivo rechazado; se queda con su propietario.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="296" />
      <source>{role} · invited {when}, not accepted yet</source>
      <translation>{role} · invitación {when}, aún sin aceptar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="300" />
      <source>{role} · since {when}</source>
      <translation>{role} · desde {when}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="302" />
      <source>all your devices</source>
      <translation>todos tus dispositivos</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="418" />
      <source>Offered to {to}: waiting for {to} to accept.</source>
      <translation>Ofrecido a {to}: esperando a que {to} acepte.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="423" />
      <source>Moving to {to}: waiting for the controller to come online.</source>
      <translation>Pasando a {to}: esperando a que el controlador se conecte.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="425" />
      <source>{device} is moving to you: waiting for the controller to come online.</source>
      <translation>{device} está pasando a ti: esperando a que el controlador se conecte.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="430" />
      <source>Moving to {to}: the controller is taking its new owner's settings.</source>
      <translation>Pasando a {to}: el controlador está recibiendo los ajustes de su nuevo propietario.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="434" />
      <source>{device} is moving to you: the controller is taking its new settings.</source>
      <translation>{device} está pasando a ti: el controlador está recibiendo sus nuevos ajustes.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="438" />
      <source>{device} now belongs to {to}.</source>
      <translation>{device} ahora pertenece a {to}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="440" />
      <source>The hand-over of {device} was cancelled.</source>
      <translation>El traspaso de {device} se canceló.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="442" />
      <source>the controller found its new settings invalid</source>
      <translation>el controlador consideró no válidos sus nuevos ajustes</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="443" />
      <source>the broker refused the controller's new login</source>
      <translation>el bróker rechazó el nuevo inicio de sesión del controlador</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="445" />
      <source>no reason given</source>
      <translation>sin motivo indicado</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/people.py" line="446" />
      <source>The hand-over to {to} failed ({reason}); the device stays yours.</source>
      <translation>El traspaso a {to} falló ({reason}); el dispositivo sigue siendo tuyo.</translation>
    </message>
  </context>
  <context>
    <name>PeopleView</name>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="135" />
      <source>Who has access</source>
      <translation>Quién tiene acceso</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="139" />
      <source>Only you. Invite someone below.</source>
      <translation>Solo tú. Invita a alguien abajo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="145" />
      <source>Invite someone</source>
      <translation>Invitar a alguien</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="149" />
      <source>their PoolDesk username</source>
      <translation>su usuario de PoolDesk</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="155" />
      <source>Send invitation</source>
      <translation>Enviar invitación</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="160" />
      <source>All my devices, also ones I add later</source>
      <translation>Todos mis dispositivos, también los que añada después</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="164" />
      <source>Hand over this device</source>
      <translation>Traspasar este dispositivo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="167" />
      <source>For a house sale: the new owner accepts, then the controller moves to their account by itself. You and everyone you shared it with lose access.</source>
      <translation>Para la venta de una casa: el nuevo propietario acepta y el controlador pasa solo a su cuenta. Tú y todas las personas con quienes lo compartiste perdéis el acceso.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="178" />
      <source>the new owner's username</source>
      <translation>el usuario del nuevo propietario</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="180" />
      <source>The history goes with the device</source>
      <translation>El historial se va con el dispositivo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="181" />
      <source>Clear the history first</source>
      <translation>Borrar antes el historial</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="188" />
      <source>Offer the device…</source>
      <translation>Ofrecer el dispositivo…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="191" />
      <source>Cancel the hand-over</source>
      <translation>Cancelar el traspaso</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/people_view.py" line="260" />
      <source>End access</source>
      <translation>Quitar el acceso</translation>
    </message>
  </context>
  <context>
    <name>RegisterView</name>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="207" />
      <source>Create your account</source>
      <translation>Crea tu cuenta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="219" />
      <source>Username</source>
      <translation>Nombre de usuario</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="220" />
      <source>Email</source>
      <translation>Correo electrónico</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="221" />
      <source>Password</source>
      <translation>Contraseña</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="222" />
      <source>Repeat password</source>
      <translation>Repite la contraseña</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="236" />
      <source>I have a pool controller to add</source>
      <translation>Tengo un controlador de piscina que añadir</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="237" />
      <source>No controller of my own yet</source>
      <translation>Aún no tengo controlador propio</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="251" />
      <source>Device id</source>
      <translation>Id. del dispositivo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="252" />
      <source>The device id is printed on the controller's label.</source>
      <translation>El id. del dispositivo está impreso en la etiqueta del controlador.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="260" />
      <source>For someone a pool is shared with, or an installer who sets up controllers for others. You can add a controller later with “Add device”.</source>
      <translation>Para quien recibe una piscina compartida o para un instalador que configura controladores de otros. Puedes añadir un controlador más tarde con «Añadir dispositivo».</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="273" />
      <source>Back to sign in</source>
      <translation>Volver a iniciar sesión</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="275" />
      <source>Create account</source>
      <translation>Crear la cuenta</translation>
    </message>
  </context>
  <context>
    <name>ScheduleController</name>
    <message>
      <location filename="../../pooldesk/ui/controllers/schedule.py" line="47" />
      <source>Schedule of {name}</source>
      <translation>Horario de {name}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/schedule.py" line="55" />
      <source>The controller has not reported a schedule yet.</source>
      <translation>El controlador aún no ha informado de ningún horario.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/schedule.py" line="98" />
      <source>Waiting for the controller…</source>
      <translation>Esperando al controlador…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/schedule.py" line="100" />
      <source>The controller runs this schedule now.</source>
      <translation>El controlador sigue ahora este horario.</translation>
    </message>
  </context>
  <context>
    <name>ScheduleView</name>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="78" />
      <source>The pump runs inside these windows when it follows the schedule. A window whose end is before its start runs past midnight. Times are in {tz}.</source>
      <translation>La bomba funciona dentro de estas franjas cuando sigue el horario. Una franja que termina antes de empezar continúa después de medianoche. Las horas son de {tz}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="86" />
      <source>Start</source>
      <translation>Inicio</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="86" />
      <source>End</source>
      <translation>Fin</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="86" />
      <source>Days</source>
      <translation>Días</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="92" />
      <source>No run windows: the pump only runs when switched on.</source>
      <translation>Sin franjas: la bomba solo funciona cuando se enciende a mano.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="101" />
      <source>Add window</source>
      <translation>Añadir franja</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="102" />
      <source>Send to controller</source>
      <translation>Enviar al controlador</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="111" />
      <source>Mon</source>
      <translation>lun</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="112" />
      <source>Tue</source>
      <translation>mar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="113" />
      <source>Wed</source>
      <translation>mié</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="114" />
      <source>Thu</source>
      <translation>jue</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="115" />
      <source>Fri</source>
      <translation>vie</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="116" />
      <source>Sat</source>
      <translation>sáb</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/schedule_view.py" line="117" />
      <source>Sun</source>
      <translation>dom</translation>
    </message>
  </context>
  <context>
    <name>ServerView</name>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="59" />
      <source>Welcome to PoolDesk</source>
      <translation>Bienvenido a PoolDesk</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="62" />
      <source>Which PoolDesk server holds your account? Enter its address, or let this computer run the server for your household.</source>
      <translation>¿Qué servidor de PoolDesk guarda tu cuenta? Escribe su dirección, o deja que este ordenador ejecute el servidor para tu hogar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="70" />
      <source>Server address</source>
      <translation>Dirección del servidor</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="72" />
      <source>Allow insecure connections</source>
      <translation>Permitir conexiones no seguras</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="76" />
      <source>Plain http:// and mqtt:// to other computers are not encrypted; allow them only on a network you trust.</source>
      <translation>Las conexiones http:// y mqtt:// simples a otros ordenadores no están cifradas; permítelas solo en una red de confianza.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="85" />
      <source>Connect to a server</source>
      <translation>Conectar a un servidor</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="87" />
      <source>Run the server on this computer…</source>
      <translation>Ejecutar el servidor en este ordenador…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="89" />
      <source>For a household without a server: this computer keeps your account and history and links the pool controllers on your home network.</source>
      <translation>Para un hogar sin servidor: este ordenador guarda tu cuenta y el historial y conecta los controladores de piscina de la red de tu casa.</translation>
    </message>
  </context>
  <context>
    <name>SetupCodeView</name>
    <message>
      <location filename="../../pooldesk/ui/views/setup_code_view.py" line="69" />
      <source>Let an installer set up a controller for you</source>
      <translation>Deja que un instalador configure un controlador para ti</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/setup_code_view.py" line="71" />
      <source>The installer signs in to their own PoolDesk account, runs “Add device” and enters this code with the controller's claim code. The controller is added to your account; the installer keeps no access to it. A code works once, for 15 minutes.</source>
      <translation>El instalador inicia sesión con su propia cuenta de PoolDesk, usa «Añadir dispositivo» e introduce este código junto con el código de reclamación del controlador. El controlador se añade a tu cuenta; el instalador no conserva ningún acceso. Un código sirve una vez, durante 15 minutos.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/setup_code_view.py" line="77" />
      <source>Create a set-up code</source>
      <translation>Crear un código de instalación</translation>
    </message>
  </context>
  <context>
    <name>SignInView</name>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="115" />
      <location filename="../../pooldesk/ui/views/auth_views.py" line="134" />
      <source>Sign in</source>
      <translation>Iniciar sesión</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="125" />
      <source>Username</source>
      <translation>Nombre de usuario</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="126" />
      <source>Password</source>
      <translation>Contraseña</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="138" />
      <source>Create an account</source>
      <translation>Crear una cuenta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/auth_views.py" line="140" />
      <source>Change server</source>
      <translation>Cambiar de servidor</translation>
    </message>
  </context>
  <context>
    <name>UpdatePanel</name>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="26" />
      <source>Install…</source>
      <translation>Instalar…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="42" />
      <source>no reason given</source>
      <translation>sin motivo indicado</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="44" />
      <source>Waiting for the controller to take firmware {v}…</source>
      <translation>Esperando a que el controlador acepte el firmware {v}…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="45" />
      <source>Firmware {v} offered to the controller…</source>
      <translation>Firmware {v} ofrecido al controlador…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="46" />
      <source>Downloading firmware {v}: {p}%</source>
      <translation>Descargando el firmware {v}: {p}%</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="47" />
      <source>Checking the signature and files of {v}…</source>
      <translation>Comprobando la firma y los archivos de {v}…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="48" />
      <source>Firmware {v} installed; the controller restarts…</source>
      <translation>Firmware {v} instalado; el controlador se reinicia…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="49" />
      <source>Updated to {v}: the controller is back online with it.</source>
      <translation>Actualizado a {v}: el controlador vuelve a estar en línea con él.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="51" />
      <source>Version {v} did not work on the controller, so it went back to the version before by itself ({r}).</source>
      <translation>La versión {v} no funcionó en el controlador, así que volvió por sí solo a la versión anterior ({r}).</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="54" />
      <source>Version {v} was not installed ({r}). Nothing changed.</source>
      <translation>La versión {v} no se instaló ({r}). No ha cambiado nada.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="72" />
      <source>Firmware {v} is available (this controller runs {r}).</source>
      <translation>Hay disponible el firmware {v} (este controlador tiene {r}).</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/views/update_panel.py" line="74" />
      <source>Firmware {v} is available.</source>
      <translation>Hay disponible el firmware {v}.</translation>
    </message>
  </context>
  <context>
    <name>UpdatesController</name>
    <message>
      <location filename="../../pooldesk/ui/controllers/updates.py" line="80" />
      <source>Update the controller?</source>
      <translation>¿Actualizar el controlador?</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/updates.py" line="82" />
      <source>Install firmware {v} on {n}? The controller checks the update's signature, installs it and restarts, which takes about a minute; the pump keeps its settings. If the new version does not work, the controller goes back to the one it has now by itself.</source>
      <translation>¿Instalar el firmware {v} en {n}? El controlador comprueba la firma de la actualización, la instala y se reinicia, lo que tarda alrededor de un minuto; la bomba conserva sus ajustes. Si la nueva versión no funciona, el controlador vuelve por sí solo a la que tiene ahora.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/controllers/updates.py" line="87" />
      <source>Install</source>
      <translation>Instalar</translation>
    </message>
  </context>
  <context>
    <name>WizardController</name>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="76" />
      <source>Change Wi-Fi of {id}</source>
      <translation>Cambiar la wifi de {id}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="78" />
      <source>Add device</source>
      <translation>Añadir dispositivo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="196" />
      <source>Looking for pool controllers…</source>
      <translation>Buscando controladores de piscina…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="218" />
      <source>{id} was not heard. Press its button briefly (1 to 5 seconds) so its Bluetooth comes on, check it has power and stand next to it, then click Rescan.</source>
      <translation>No se ha oído a {id}. Pulsa brevemente su botón (de 1 a 5 segundos) para que se encienda su Bluetooth, comprueba que tiene corriente y ponte a su lado; después pulsa Volver a buscar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="224" />
      <source>No pool controller was heard. Check the controller has power and that you are within a few metres of it, then rescan.</source>
      <translation>No se oye ningún controlador de piscina. Comprueba que el controlador tiene corriente y que estás a pocos metros de él, y vuelve a buscar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="240" />
      <source>{id} · signal {rssi} dBm</source>
      <translation>{id} · señal {rssi} dBm</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="246" />
      <source>already set up</source>
      <translation>ya configurado</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="268" />
      <source>Connecting to {id} over Bluetooth…</source>
      <translation>Conectando con {id} por Bluetooth…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="276" />
      <source>{id} (firmware {fw})</source>
      <translation>{id} (firmware {fw})</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="283" />
      <source>This controller is already set up. Continuing replaces its settings; to change only its Wi-Fi use “Change Wi-Fi…” on its card.</source>
      <translation>Este controlador ya está configurado. Si continúas, se sustituye su configuración; para cambiar solo su wifi usa «Cambiar la wifi…» en su tarjeta.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="292" />
      <source>{id} is blinking its light for 5 seconds.</source>
      <translation>{id} hace parpadear su luz durante 5 segundos.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="333" />
      <source>Opening a secure session…</source>
      <translation>Abriendo una sesión segura…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="338" />
      <source>The claim code does not match this controller. Check the label on the controller and enter the code again.</source>
      <translation>El código de reclamación no corresponde a este controlador. Revisa la etiqueta del controlador y vuelve a escribir el código.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="342" />
      <source>You can try again in {s} s.</source>
      <translation>Puedes volver a intentarlo en {s} s.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="351" />
      <source>Too many wrong claim codes were tried. Wait {s} s, then enter the code again.</source>
      <translation>Se han probado demasiados códigos erróneos. Espera {s} s y vuelve a escribir el código.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="370" />
      <source>The controller is looking for Wi-Fi networks…</source>
      <translation>El controlador está buscando redes wifi…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="376" />
      <source>open</source>
      <translation>abierta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="380" />
      <source>{ssid} · signal {rssi} dBm · {security}</source>
      <translation>{ssid} · señal {rssi} dBm · {security}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="387" />
      <source>Other network…</source>
      <translation>Otra red…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="393" />
      <source>The controller hears no network. Move it closer to the router, or enter the network's name under “Other network…”.</source>
      <translation>El controlador no oye ninguna red. Acércalo al router o escribe el nombre de la red en «Otra red…».</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="431" />
      <source>Setting up {id} on “{ssid}”</source>
      <translation>Configurando {id} en «{ssid}»</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="533" />
      <source>The Wi-Fi password is wrong. Enter it again.</source>
      <translation>La contraseña wifi no es correcta. Vuelve a escribirla.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="574" />
      <source>Enter the Wi-Fi password again.</source>
      <translation>Vuelve a escribir la contraseña wifi.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="585" />
      <source>{id} is online</source>
      <translation>{id} está en línea</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="588" />
      <source>It now reports to the dashboard of {owner}, who sees in their log that you set it up. Your access to it ends when you press Finish.</source>
      <translation>Ahora informa al panel de {owner}, que verá en su registro que lo configuraste tú. Tu acceso termina al pulsar Terminar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="592" />
      <source>It now reports to your dashboard. You can close this window.</source>
      <translation>Ya informa a tu panel. Puedes cerrar esta ventana.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="594" />
      <source>It is back online on the new network; its setup is unchanged.</source>
      <translation>Vuelve a estar en línea en la red nueva; su configuración no ha cambiado.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="622" />
      <source>Cancelling…</source>
      <translation>Cancelando…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="653" />
      <source>Only its owner can add it elsewhere: ask them to remove it from their dashboard (⋯ → Remove from my account), then try again. Nothing was changed on the controller.</source>
      <translation>Solo su propietario puede añadirlo en otro sitio: pídele que lo quite de su panel (⋯ → Quitar de mi cuenta) y vuelve a intentarlo. No se ha cambiado nada en el controlador.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="679" />
      <source>Setting up failed. Retry.</source>
      <translation>La configuración falló. Vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="103" />
      <source>Pool controllers nearby</source>
      <translation>Controladores de piscina cercanos</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="105" />
      <source>Keep this computer within a few metres of the controller. Controllers that are already set up are marked.</source>
      <translation>Mantén este ordenador a pocos metros del controlador. Los controladores ya configurados aparecen marcados.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="108" />
      <source>Rescan</source>
      <translation>Volver a buscar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="110" />
      <source>Find {id}</source>
      <translation>Buscar {id}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="112" />
      <source>Stand next to the controller with this computer. Once a controller is online its Bluetooth is off, so wake it first:</source>
      <translation>Ponte junto al controlador con este ordenador. Cuando un controlador está en línea su Bluetooth está apagado, así que primero despiértalo:</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="116" />
      <source>&lt;b&gt;1.&lt;/b&gt; Press the controller's button briefly: 1 to 5 seconds (holding it longer resets the controller). Its Bluetooth stays on for 10 minutes.&lt;br&gt;&lt;b&gt;2.&lt;/b&gt; Click &lt;b&gt;Rescan&lt;/b&gt;.</source>
      <translation>&lt;b&gt;1.&lt;/b&gt; Pulsa brevemente el botón del controlador: de 1 a 5 segundos (mantenerlo más tiempo lo restablece). Su Bluetooth queda encendido 10 minutos.&lt;br&gt;&lt;b&gt;2.&lt;/b&gt; Pulsa &lt;b&gt;Volver a buscar&lt;/b&gt;.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="121" />
      <source>Use this controller</source>
      <translation>Usar este controlador</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="122" />
      <source>Not sure it is the right unit? Make its light blink.</source>
      <translation>¿No sabes si es la unidad correcta? Haz parpadear su luz.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="123" />
      <source>Identify (blink)</source>
      <translation>Identificar (parpadeo)</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="125" />
      <source>Claim code from the label (like KQ4M-7XTZ-2PB6-WRHD), or the text of its QR code:</source>
      <translation>Código de reclamación de la etiqueta (como KQ4M-7XTZ-2PB6-WRHD) o el texto de su código QR:</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="127" />
      <source>I am installing it for someone else (their set-up code)</source>
      <translation>Lo instalo para otra persona (su código de instalación)</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="129" />
      <source>The owner creates a set-up code in their PoolDesk (“Add device” ▾ → “Installer code…”). The controller goes to their account; you keep no access to it afterwards.</source>
      <translation>El propietario crea un código de instalación en su PoolDesk («Añadir dispositivo» ▾ → «Código de instalador…»). El controlador pasa a su cuenta; después no conservas ningún acceso.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="133" />
      <source>XXXX-XXXX-XXXX</source>
      <translation>XXXX-XXXX-XXXX</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="135" />
      <source>Back to the list</source>
      <translation>Volver a la lista</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="136" />
      <source>Connect securely</source>
      <translation>Conectar de forma segura</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="137" />
      <source>Wi-Fi at the pool</source>
      <translation>Wifi en la piscina</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="138" />
      <source>Networks the controller hears where it stands:</source>
      <translation>Redes que el controlador oye donde está:</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="139" />
      <source>Network name:</source>
      <translation>Nombre de la red:</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="140" />
      <source>Wi-Fi password:</source>
      <translation>Contraseña wifi:</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="141" />
      <source>Name for this controller (optional):</source>
      <translation>Nombre para este controlador (opcional):</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="142" />
      <location filename="../../pooldesk/ui/wizard/controller.py" line="148" />
      <source>Rescan networks</source>
      <translation>Volver a buscar redes</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="143" />
      <source>Connect</source>
      <translation>Conectar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="147" />
      <source>Enter the password again</source>
      <translation>Volver a escribir la contraseña</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="149" />
      <source>Retry</source>
      <translation>Reintentar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="150" />
      <source>Finish</source>
      <translation>Terminar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="151" />
      <source>Cancel</source>
      <translation>Cancelar</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="508" />
      <source>Add the controller to the account of {owner}</source>
      <translation>Añadir el controlador a la cuenta de {owner}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="512" />
      <source>Add the controller to your account</source>
      <translation>Añadir el controlador a tu cuenta</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="513" />
      <source>Send the settings to the controller</source>
      <translation>Enviar la configuración al controlador</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="514" />
      <source>Connect to Wi-Fi</source>
      <translation>Conectar a la wifi</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="515" />
      <source>Connect to the PoolDesk server</source>
      <translation>Conectar al servidor de PoolDesk</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="516" />
      <source>Online on your dashboard</source>
      <translation>En línea en tu panel</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="519" />
      <source>Connected to Wi-Fi (address {ip})</source>
      <translation>Conectado a la wifi (dirección {ip})</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="535" />
      <source>The controller cannot hear that network. Move it closer to the router, or rescan and pick another network.</source>
      <translation>El controlador no oye esa red. Acércalo al router o vuelve a buscar y elige otra red.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="539" />
      <source>The network gave the controller no address. Check the router's DHCP, then retry.</source>
      <translation>La red no le dio ninguna dirección al controlador. Revisa el DHCP del router y vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="542" />
      <source>The controller cannot reach the PoolDesk server. Check that this network has internet access, then retry.</source>
      <translation>El controlador no llega al servidor de PoolDesk. Comprueba que esta red tiene acceso a internet y vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="546" />
      <source>The server refused the controller's login, even with fresh credentials. Retry; if it keeps failing, ask whoever runs the server.</source>
      <translation>El servidor rechazó el acceso del controlador, incluso con credenciales nuevas. Vuelve a intentarlo; si sigue fallando, pregunta a quien gestiona el servidor.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="550" />
      <source>The controller reported no result in time. Check it has power and is in range, then retry.</source>
      <translation>El controlador no informó de ningún resultado a tiempo. Comprueba que tiene corriente y está a tu alcance, y vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/wizard/controller.py" line="554" />
      <source>The controller connected, but the server did not see it come online. Retry.</source>
      <translation>El controlador se conectó, pero el servidor no lo vio en línea. Vuelve a intentarlo.</translation>
    </message>
  </context>
  <context>
    <name>countdown</name>
    <message>
      <location filename="../../pooldesk/ui/countdown.py" line="84" />
      <source>Try again in {s} s.</source>
      <translation>Vuelve a intentarlo en {s} s.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/countdown.py" line="90" />
      <source>You can try again now.</source>
      <translation>Ya puedes volver a intentarlo.</translation>
    </message>
  </context>
  <context>
    <name>failure</name>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="27" />
      <source>Cannot reach the server at {url}. Check the address and that the server is running.</source>
      <translation>No se puede conectar con el servidor en {url}. Comprueba la dirección y que el servidor esté en marcha.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="31" />
      <source>The server at {url} did not answer in time. Try again.</source>
      <translation>El servidor en {url} no respondió a tiempo. Vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="34" />
      <source>The server answered {status} without a readable message.</source>
      <translation>El servidor respondió {status} sin un mensaje legible.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="37" />
      <source>The server's answer was not what this app expects ({detail}). Is the server a PoolDesk backend of a matching version?</source>
      <translation>La respuesta del servidor no es la que esta aplicación espera ({detail}). ¿Es el servidor un backend de PoolDesk de una versión compatible?</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="42" />
      <source>The server could not do this because of a fault of its own. Try again later; if it keeps happening, tell the server's administrator.</source>
      <translation>El servidor no pudo hacerlo por un fallo propio. Vuelve a intentarlo más tarde; si sigue ocurriendo, avisa al administrador del servidor.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="47" />
      <source>The server is busy.</source>
      <translation>El servidor está ocupado.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="48" />
      <source>The server refused ({status}).</source>
      <translation>El servidor se negó ({status}).</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="50" />
      <source>Invalid username or password</source>
      <translation>Nombre de usuario o contraseña incorrectos</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="51" />
      <source>Your session has ended. Sign in again.</source>
      <translation>Tu sesión ha terminado. Vuelve a iniciar sesión.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="52" />
      <source>No system keyring is available, so you will need to sign in again next time.</source>
      <translation>No hay ningún llavero del sistema disponible, así que tendrás que volver a iniciar sesión la próxima vez.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="56" />
      <source>Connecting to the broker…</source>
      <translation>Conectando con el bróker…</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="57" />
      <source>Cannot reach the broker at {address} ({reason}).</source>
      <translation>No se puede contactar con el bróker en {address} ({reason}).</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="60" />
      <source>The broker did not answer the connection request.</source>
      <translation>El bróker no respondió a la solicitud de conexión.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="63" />
      <source>The broker did not answer the subscription request.</source>
      <translation>El bróker no respondió a la solicitud de suscripción.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="66" />
      <source>Connection lost: {reason}</source>
      <translation>Conexión perdida: {reason}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="67" />
      <source>The broker refused the login. Sign out and in again, or ask the server's administrator to check the broker.</source>
      <translation>El bróker rechazó el inicio de sesión. Cierra la sesión y vuelve a entrar, o pide al administrador del servidor que revise el bróker.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="72" />
      <source>The broker refused the connection (reason {reason}).</source>
      <translation>El bróker rechazó la conexión (motivo {reason}).</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="75" />
      <source>Could not get broker credentials: {cause}</source>
      <translation>No se pudieron obtener las credenciales del bróker: {cause}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="78" />
      <source>certificate not trusted: {detail}</source>
      <translation>certificado no fiable: {detail}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="79" />
      <source>timed out</source>
      <translation>tiempo de espera agotado</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="80" />
      <source>The controller did not respond.</source>
      <translation>El controlador no respondió.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="81" />
      <source>Not connected to the broker; the command was not sent.</source>
      <translation>Sin conexión con el bróker; la orden no se envió.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="84" />
      <source>The controller carried out the command late.</source>
      <translation>El controlador ejecutó la orden con retraso.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="85" />
      <source>The command reached the controller too late and was not carried out; nothing changed.</source>
      <translation>La orden llegó al controlador demasiado tarde y no se ejecutó; nada ha cambiado.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="89" />
      <source>The controller refused: {reason}.</source>
      <translation>El controlador se negó: {reason}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="90" />
      <source>no reason given</source>
      <translation>sin motivo indicado</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="91" />
      <source>freeze protection is running and keeps the pump on</source>
      <translation>la protección antiheladas está en marcha y mantiene la bomba encendida</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="94" />
      <source>the broker had kept the command from earlier, so it was not carried out</source>
      <translation>el bróker había guardado la orden de antes, así que no se ejecutó</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="97" />
      <source>it does not know this time zone</source>
      <translation>no conoce esta zona horaria</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="98" />
      <source>a run window's times or days are not valid</source>
      <translation>las horas o los días de un tramo de funcionamiento no son válidos</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="101" />
      <source>it could not read the command (its firmware may not match this app)</source>
      <translation>no pudo leer la orden (puede que su firmware no corresponda a esta aplicación)</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="104" />
      <source>{device} kept the Wi-Fi settings sent to it, because the connection to it ended before they could be undone. Use Change Wi-Fi to set its network again.</source>
      <translation>{device} se quedó con la configuración wifi que se le envió, porque la conexión con él terminó antes de poder deshacerla. Usa «Cambiar la wifi…» para volver a configurar su red.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="109" />
      <source>{device} kept the settings sent to it, because the connection to it ended before they could be undone. Hold its button for 5 seconds to reset it.</source>
      <translation>{device} se quedó con la configuración que se le envió, porque la conexión con él terminó antes de poder deshacerla. Mantén pulsado su botón 5 segundos para restablecerlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="114" />
      <source>{device} kept the Wi-Fi settings sent to it, because undoing them failed ({reason}). Use Change Wi-Fi to set its network again.</source>
      <translation>{device} se quedó con la configuración wifi que se le envió, porque no se pudo deshacer ({reason}). Usa «Cambiar la wifi…» para volver a configurar su red.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="119" />
      <source>{device} kept the settings sent to it, because undoing them failed ({reason}). Hold its button for 5 seconds to reset it.</source>
      <translation>{device} se quedó con la configuración que se le envió, porque no se pudo deshacer ({reason}). Mantén pulsado su botón 5 segundos para restablecerlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="124" />
      <source>{device} could not be removed from your account ({cause}). Remove it from the dashboard.</source>
      <translation>No se pudo quitar {device} de tu cuenta ({cause}). Quítalo desde el panel.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="128" />
      <source>{device} stays on the account of {owner}, who can remove it from their dashboard.</source>
      <translation>{device} se queda en la cuenta de {owner}, que puede quitarlo desde su panel.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="132" />
      <source>This computer's Bluetooth service is not running (on Linux: BlueZ). Install or start it (for example “sudo systemctl start bluetooth”), then press Rescan.</source>
      <translation>El servicio Bluetooth de este ordenador no está en marcha (en Linux: BlueZ). Instálalo o inícialo (por ejemplo «sudo systemctl start bluetooth») y pulsa Volver a buscar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="137" />
      <source>This computer has no Bluetooth adapter. Plug in a Bluetooth adapter, or use a computer or phone with Bluetooth, then press Rescan.</source>
      <translation>Este ordenador no tiene adaptador Bluetooth. Conecta un adaptador Bluetooth o usa un ordenador o teléfono con Bluetooth y pulsa Volver a buscar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="142" />
      <source>Bluetooth is switched off. Turn it on in the system settings, then press Rescan.</source>
      <translation>El Bluetooth está apagado. Actívalo en la configuración del sistema y pulsa Volver a buscar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="146" />
      <source>PoolDesk is not allowed to use Bluetooth. Allow it in the system settings (on Linux, ask your administrator to add you to the “bluetooth” group), then press Rescan.</source>
      <translation>PoolDesk no tiene permiso para usar el Bluetooth. Permíteselo en la configuración del sistema (en Linux, pide a tu administrador que te añada al grupo «bluetooth») y pulsa Volver a buscar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="151" />
      <source>Bluetooth did not answer. Turn Bluetooth off and on again (or restart the computer), then press Rescan.</source>
      <translation>El Bluetooth no responde. Apágalo y vuelve a encenderlo (o reinicia el ordenador) y pulsa Volver a buscar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="156" />
      <source>Bluetooth cannot be used on this computer right now. Check that it is on, then press Rescan.</source>
      <translation>Ahora mismo no se puede usar el Bluetooth de este ordenador. Comprueba que está encendido y pulsa Volver a buscar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="161" />
      <source>The Bluetooth connection to the controller was lost. Check it has power, move closer, then pick it again from the list.</source>
      <translation>Se perdió la conexión Bluetooth con el controlador. Comprueba que tenga corriente, acércate y vuelve a elegirlo en la lista.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="166" />
      <source>This device could not prove it is the controller on the label. Nothing was sent to it. Move closer to the right controller and try again.</source>
      <translation>Este dispositivo no pudo demostrar que es el controlador de la etiqueta. No se le envió nada. Acércate al controlador correcto y vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="171" />
      <source>Another step is still running; wait for it or cancel.</source>
      <translation>Todavía hay otro paso en curso; espera a que termine o cancela.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="174" />
      <source>This provisioning pass is over; start a new one.</source>
      <translation>Esta configuración ya terminó; empieza una nueva.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="177" />
      <source>Pick a controller from the scan first.</source>
      <translation>Primero elige un controlador de la búsqueda.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="180" />
      <source>Enter the claim code first.</source>
      <translation>Primero escribe el código de reclamación.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="181" />
      <source>This controller is not set up yet, so it has no Wi-Fi to change. Use Add device to set it up.</source>
      <translation>Este controlador aún no está configurado, así que no tiene Wi-Fi que cambiar. Usa Añadir dispositivo para configurarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="186" />
      <source>Enter an address that starts with {schemes} and names a host.</source>
      <translation>Escribe una dirección que empiece por {schemes} e indique un host.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="189" />
      <source>The port must be a number between 1 and 65535.</source>
      <translation>El puerto debe ser un número entre 1 y 65535.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="192" />
      <source>{scheme}:// to {host} is not encrypted. Use the secure address, or turn on 'Allow insecure connections' in the settings if you trust this network.</source>
      <translation>{scheme}:// hacia {host} no está cifrado. Usa la dirección segura, o activa «Permitir conexiones no seguras» en los ajustes si confías en esta red.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="197" />
      <source>{text} is not a device id like ESP-A1B2C3.</source>
      <translation>{text} no es un identificador de dispositivo como ESP-A1B2C3.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="200" />
      <source>This QR text is not from a PoolDesk controller label.</source>
      <translation>Este texto QR no es de la etiqueta de un controlador PoolDesk.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="203" />
      <source>This label belongs to {label}, not to {picked}. Use the label on the controller you picked.</source>
      <translation>Esta etiqueta es de {label}, no de {picked}. Usa la etiqueta del controlador que elegiste.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="208" />
      <source>The secure session with the controller has ended. Enter the claim code again.</source>
      <translation>La sesión segura con el controlador ha terminado. Vuelve a escribir el código de reclamación.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="211" />
      <source>The controller reported a protocol error ({error}): {detail}</source>
      <translation>El controlador informó de un error de protocolo ({error}): {detail}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="214" />
      <source>The controller sent a malformed {field}.</source>
      <translation>El controlador envió un {field} mal formado.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="217" />
      <source>This controller is not set up yet; send the full setup instead of Wi-Fi only.</source>
      <translation>Este controlador aún no está configurado; envía la configuración completa en lugar de solo el Wi-Fi.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="220" />
      <source>The controller could not do that; nothing was changed. Try again.</source>
      <translation>El controlador no pudo hacerlo; no se cambió nada. Vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="223" />
      <source>The controller refused the request: {reason}</source>
      <translation>El controlador rechazó la solicitud: {reason}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="226" />
      <source>The controller reported no progress in time. It may be out of range; move closer and try again.</source>
      <translation>El controlador no informó de ningún avance a tiempo. Puede que esté fuera de alcance; acércate y vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="231" />
      <source>The controller did not answer in time. It may be out of range or restarting; move closer and try again.</source>
      <translation>El controlador no respondió a tiempo. Puede que esté fuera de alcance o reiniciándose; acércate y vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="236" />
      <source>The controller's device information is unreadable.</source>
      <translation>No se puede leer la información del dispositivo que envió el controlador.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="239" />
      <source>This controller speaks a newer provisioning protocol; update PoolDesk.</source>
      <translation>Este controlador usa un protocolo de configuración más reciente; actualiza PoolDesk.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="242" />
      <source>The controller did not say which device it is.</source>
      <translation>El controlador no dijo qué dispositivo es.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="245" />
      <source>The controller's Wi-Fi list is unreadable.</source>
      <translation>No se puede leer la lista de redes Wi-Fi que envió el controlador.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="248" />
      <source>The controller answered a secure request in clear.</source>
      <translation>El controlador respondió sin cifrar a una petición segura.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="251" />
      <source>A message from the controller could not be read ({detail}). Try again.</source>
      <translation>No se pudo leer un mensaje del controlador ({detail}). Vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="254" />
      <source>Open a secure session with the claim code first.</source>
      <translation>Primero abre una sesión segura con el código de reclamación.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="257" />
      <source>This device does not offer PoolDesk provisioning. Pick a pool controller from the scan list.</source>
      <translation>Este dispositivo no ofrece la configuración de PoolDesk. Elige un controlador de piscina de la lista.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="262" />
      <source>The controller is no longer connected. Move closer and try again.</source>
      <translation>El controlador ya no está conectado. Acércate y vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="265" />
      <source>The controller has no '{endpoint}' endpoint (it offers: {known}); its firmware may be too old for this app.</source>
      <translation>El controlador no tiene el punto de acceso «{endpoint}» (ofrece: {known}); puede que su firmware sea demasiado antiguo para esta aplicación.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="270" />
      <source>Internal error: a {size}-byte write to {endpoint} does not fit the Bluetooth packet size ({limit} bytes).</source>
      <translation>Error interno: una escritura de {size} bytes en {endpoint} no cabe en un paquete Bluetooth ({limit} bytes).</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="275" />
      <source>The controller refused a Bluetooth request on {endpoint} ({detail}).</source>
      <translation>El controlador rechazó una petición Bluetooth en {endpoint} ({detail}).</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="278" />
      <source>The controller did not answer a Bluetooth request on {endpoint}.</source>
      <translation>El controlador no respondió a una petición Bluetooth en {endpoint}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="281" />
      <source>The Bluetooth connection failed during a request on {endpoint}: {detail}. Move closer and try again.</source>
      <translation>La conexión Bluetooth falló durante una petición en {endpoint}: {detail}. Acércate y vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="286" />
      <source>{name} is not in range any more. Move closer to it, check it has power, and scan again.</source>
      <translation>{name} ya no está al alcance. Acércate, comprueba que tenga corriente y vuelve a buscar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="290" />
      <source>{name} did not accept the connection in time. It may be busy with another app; close it there or move closer, then try again.</source>
      <translation>{name} no aceptó la conexión a tiempo. Puede que esté ocupado con otra aplicación; ciérrala allí o acércate y vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="295" />
      <source>Could not connect to {name}: {detail}</source>
      <translation>No se pudo conectar con {name}: {detail}</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="296" />
      <source>A claim code has {length} letters and digits (like KQ4M-7XTZ-2PB6-WRHD); this one has {count}.</source>
      <translation>Un código de reclamación tiene {length} letras y cifras (como KQ4M-7XTZ-2PB6-WRHD); este tiene {count}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="301" />
      <source>A claim code uses only the letters A-Z and the digits 2-7; check these characters: {characters}.</source>
      <translation>Un código de reclamación solo usa las letras A-Z y las cifras 2-7; revisa estos caracteres: {characters}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="306" />
      <source>Enter the owner's set-up code.</source>
      <translation>Introduce el código de instalación del propietario.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="307" />
      <source>A set-up code has only letters and digits; check these characters: {characters}.</source>
      <translation>Un código de instalación solo tiene letras y cifras; revisa estos caracteres: {characters}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="311" />
      <source>A set-up code has {length} letters and digits (like 7QK2-M4XD-9TRB); this one has {count}.</source>
      <translation>Un código de instalación tiene {length} letras y cifras (como 7QK2-M4XD-9TRB); este tiene {count}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="316" />
      <source>Enter a username.</source>
      <translation>Escribe un nombre de usuario.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="317" />
      <source>3 to 32 characters: lower-case letters, digits, '-' or '_'.</source>
      <translation>De 3 a 32 caracteres: minúsculas, cifras, '-' o '_'.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="320" />
      <source>Enter an email address.</source>
      <translation>Escribe una dirección de correo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="321" />
      <source>Enter an email address like name@example.com.</source>
      <translation>Escribe una dirección de correo como nombre@ejemplo.com.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="324" />
      <source>At most {limit} characters.</source>
      <translation>Como máximo {limit} caracteres.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="325" />
      <source>The password needs: {rules}.</source>
      <translation>A la contraseña le falta: {rules}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="326" />
      <source>At least {count} characters</source>
      <translation>Al menos {count} caracteres</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="327" />
      <source>An upper-case letter</source>
      <translation>Una letra mayúscula</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="328" />
      <source>A lower-case letter</source>
      <translation>Una letra minúscula</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="329" />
      <source>A digit</source>
      <translation>Una cifra</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="330" />
      <source>A symbol such as ! or #</source>
      <translation>Un símbolo como ! o #</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="331" />
      <source>Not a well-known password</source>
      <translation>No es una contraseña conocida</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="332" />
      <source>The passwords differ.</source>
      <translation>Las contraseñas no coinciden.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="333" />
      <source>The new passwords differ.</source>
      <translation>Las contraseñas nuevas no coinciden.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="334" />
      <source>Enter your current password.</source>
      <translation>Escribe tu contraseña actual.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="335" />
      <source>Enter the device id from the controller's label.</source>
      <translation>Escribe el id. del dispositivo que figura en la etiqueta del controlador.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="338" />
      <source>The device id looks like ESP-A1B2C3 (ESP- and six hex digits).</source>
      <translation>El id. del dispositivo tiene la forma ESP-A1B2C3 (ESP- y seis cifras hexadecimales).</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="341" />
      <source>Enter a name.</source>
      <translation>Escribe un nombre.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="342" />
      <source>Choose a network, or enter its name under “Other network…”.</source>
      <translation>Elige una red o escribe su nombre en «Otra red…».</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="345" />
      <source>A network name has at most {limit} bytes.</source>
      <translation>El nombre de una red tiene como máximo {limit} bytes.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="348" />
      <source>Enter the network's password.</source>
      <translation>Escribe la contraseña de la red.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="349" />
      <source>A Wi-Fi password has 8 to 63 bytes (letters such as é or ñ count as two), or is a key of 64 hex digits.</source>
      <translation>Una contraseña de Wi-Fi tiene de 8 a 63 bytes (letras como é o ñ cuentan como dos), o es una clave de 64 dígitos hexadecimales.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="354" />
      <source>A timer runs between 1 second and 24 hours.</source>
      <translation>Un temporizador dura entre 1 segundo y 24 horas.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="355" />
      <source>Every window needs at least one day.</source>
      <translation>Cada tramo necesita al menos un día.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="356" />
      <source>A window's start and end must differ.</source>
      <translation>El inicio y el fin de un tramo deben ser distintos.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="359" />
      <source>That username is taken; choose another.</source>
      <translation>Ese nombre de usuario ya existe; elige otro.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="363" />
      <source>The username {username} is not available; choose another.</source>
      <translation>El nombre de usuario {username} no está disponible; elige otro.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="367" />
      <source>The same username or device was registered at the same moment. Try again.</source>
      <translation>El mismo nombre de usuario o dispositivo se registró en ese mismo momento. Vuelve a intentarlo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="371" />
      <source>{device} is already on your account.</source>
      <translation>{device} ya está en tu cuenta.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="375" />
      <source>{device} is already registered to another account.</source>
      <translation>{device} ya está registrado en otra cuenta.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="379" />
      <source>Your account has the most devices it may have; remove one before adding another.</source>
      <translation>Tu cuenta tiene el máximo de dispositivos permitido; quita uno antes de añadir otro.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="383" />
      <source>{username} already has this access or more.</source>
      <translation>{username} ya tiene este acceso o uno mayor.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="387" />
      <source>You already have the most set-up codes waiting; delete one or let it expire.</source>
      <translation>Ya tienes el máximo de códigos de instalación pendientes; borra uno o deja que caduque.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="391" />
      <source>{device} already has a hand-over waiting; cancel it first.</source>
      <translation>{device} ya tiene un traspaso pendiente; cancélalo primero.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="395" />
      <source>That hand-over was already accepted, declined or cancelled.</source>
      <translation>Ese traspaso ya se aceptó, se rechazó o se canceló.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="399" />
      <source>This controller is already updating; wait until that update ends.</source>
      <translation>Este controlador ya se está actualizando; espera a que termine esa actualización.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="403" />
      <source>The current password is incorrect.</source>
      <translation>La contraseña actual no es correcta.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="407" />
      <source>The claim code does not match {device}. Check the code on its label.</source>
      <translation>El código de reclamación no corresponde a {device}. Comprueba el código de su etiqueta.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="411" />
      <source>The server does not know {device}. Check the id on the device label, or ask the server's operator to import the factory list.</source>
      <translation>El servidor no conoce {device}. Comprueba el identificador de la etiqueta del dispositivo o pide al operador del servidor que importe la lista de fábrica.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="416" />
      <source>Only the device's owner can do this.</source>
      <translation>Solo el propietario del dispositivo puede hacer esto.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="420" />
      <source>You can only view this device: ask its owner for the operator role.</source>
      <translation>Solo puedes ver este dispositivo: pide a su propietario el rol de operador.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="424" />
      <source>That set-up code is wrong or has expired; ask the owner for a new one.</source>
      <translation>Ese código de instalación es incorrecto o ha caducado; pide otro al propietario.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="428" />
      <source>This set-up code is your own: add the device without it.</source>
      <translation>Este código de instalación es tuyo: añade el dispositivo sin él.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="432" />
      <source>This server does not offer this; it may be an older version.</source>
      <translation>Este servidor no ofrece esto; puede que sea una versión anterior.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="436" />
      <source>{device} is not on your account or shared with you.</source>
      <translation>{device} no está en tu cuenta ni compartido contigo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="440" />
      <source>There is no account named {username}.</source>
      <translation>No hay ninguna cuenta llamada {username}.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="444" />
      <source>That session has already ended.</source>
      <translation>Esa sesión ya había terminado.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="448" />
      <source>That access or invitation no longer exists.</source>
      <translation>Ese acceso o invitación ya no existe.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="452" />
      <source>That set-up code no longer exists.</source>
      <translation>Ese código de instalación ya no existe.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="456" />
      <source>That hand-over is no longer waiting.</source>
      <translation>Ese traspaso ya no está pendiente.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="460" />
      <source>Too many failed attempts.</source>
      <translation>Demasiados intentos fallidos.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="464" />
      <source>Too many requests in a short time.</source>
      <translation>Demasiadas solicitudes en poco tiempo.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="468" />
      <source>The server refused this password as too weak: too common or too close to your username. Choose another.</source>
      <translation>El servidor rechazó esta contraseña por débil: demasiado común o demasiado parecida a tu nombre de usuario. Elige otra.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="473" />
      <source>The new password must differ from the current one.</source>
      <translation>La contraseña nueva debe ser distinta de la actual.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="477" />
      <source>Password changed; your other sessions have been signed out.</source>
      <translation>Contraseña cambiada; se han cerrado tus otras sesiones.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="481" />
      <source>Your account was deleted.</source>
      <translation>Tu cuenta se ha eliminado.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="485" />
      <source>The server has no such firmware release stored; ask its operator to add it.</source>
      <translation>El servidor no tiene guardada esa versión del firmware; pide a su operador que la añada.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="489" />
      <source>The server's operator has disabled this account; ask them to enable it again.</source>
      <translation>El operador del servidor ha desactivado esta cuenta; pídele que vuelva a activarla.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="493" />
      <source>Freeze protection is running (water at {water}).</source>
      <translation>Protección antiheladas en marcha (agua a {water}).</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="497" />
      <source>The water temperature sensor is not responding: freeze protection cannot run.</source>
      <translation>El sensor de temperatura del agua no responde: la protección antiheladas no puede funcionar.</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/failure_texts.py" line="501" />
      <source>No network time yet: the schedule is waiting.</source>
      <translation>Todavía sin hora de la red: el horario está en espera.</translation>
    </message>
  </context>
  <context>
    <name>format</name>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="50" />
      <source>never</source>
      <translation>nunca</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="53" />
      <source>just now</source>
      <translation>ahora mismo</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="55" />
      <source>{n} s ago</source>
      <translation>hace {n} s</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="57" />
      <source>{n} min ago</source>
      <translation>hace {n} min</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="59" />
      <source>{n} h ago</source>
      <translation>hace {n} h</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="68" />
      <source>unknown</source>
      <translation>desconocido</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="73" />
      <source>{n} h</source>
      <translation>{n} h</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="74" />
      <source>{n} min</source>
      <translation>{n} min</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="81" />
      <source>under a minute</source>
      <translation>menos de un minuto</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="84" />
      <location filename="../../pooldesk/ui/format.py" line="94" />
      <source>{m} min</source>
      <translation>{m} min</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="86" />
      <location filename="../../pooldesk/ui/format.py" line="96" />
      <source>{h} h</source>
      <translation>{h} h</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="87" />
      <location filename="../../pooldesk/ui/format.py" line="97" />
      <source>{h} h {m} min</source>
      <translation>{h} h {m} min</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="106" />
      <source>{d} d {h} h</source>
      <translation>{d} d {h} h</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="115" />
      <source>today</source>
      <translation>hoy</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="117" />
      <source>tomorrow</source>
      <translation>mañana</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="123" />
      <source>manual</source>
      <translation>manual</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="124" />
      <source>schedule</source>
      <translation>horario</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="125" />
      <source>timer</source>
      <translation>temporizador</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="126" />
      <source>freeze protection</source>
      <translation>protección antiheladas</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="132" />
      <source>owner</source>
      <translation>propietario</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="133" />
      <source>operator</source>
      <translation>operador</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="134" />
      <source>viewer</source>
      <translation>observador</translation>
    </message>
    <message>
      <location filename="../../pooldesk/ui/format.py" line="135" />
      <source>installer</source>
      <translation>instalador</translation>
    </message>
  </context>
</TS>